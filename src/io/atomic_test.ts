import assert from "node:assert/strict";
import { writeTextAtomic } from "./atomic.ts";

Deno.test("writeTextAtomic creates the directory and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => writeTextAtomic(`${dir}/a/b.txt`, "x"));
    await writeTextAtomic(`${dir}/a/b.txt`, "hello\n", { createDirs: true });
    assert.equal(await Deno.readTextFile(`${dir}/a/b.txt`), "hello\n");
    await writeTextAtomic(`${dir}/a/b.txt`, "again\n");
    assert.equal(await Deno.readTextFile(`${dir}/a/b.txt`), "again\n");
    const names = [];
    for await (const e of Deno.readDir(`${dir}/a`)) names.push(e.name);
    assert.deepEqual(names, ["b.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed write keeps the old file and cleans up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeTextAtomic(`${dir}/f.txt`, "old");
    // Renaming a file over a directory fails.
    await Deno.mkdir(`${dir}/target`);
    await assert.rejects(() => writeTextAtomic(`${dir}/target`, "x"));
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), ["f.txt", "target"]);
    assert.equal(await Deno.readTextFile(`${dir}/f.txt`), "old");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
