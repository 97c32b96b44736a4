import assert from "node:assert/strict";
import { pendingFile, writeTextAtomic } from "./atomic.ts";
import { trackedTemps } from "./temp_files.ts";

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

Deno.test("pendingFile: tracked while pending, 0644 on commit; a stable temp path is not tracked", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pending = pendingFile(`${dir}/a.bin`);
    assert.deepEqual(trackedTemps(), [pending.tempPath]);
    await Deno.writeFile(pending.tempPath, new Uint8Array([1, 2]), {
      mode: 0o600,
    });
    await pending.commit();
    assert.deepEqual(trackedTemps(), []);
    assert.deepEqual(
      await Deno.readFile(`${dir}/a.bin`),
      new Uint8Array([1, 2]),
    );
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(`${dir}/a.bin`)).mode! & 0o777, 0o644);
    }

    const stable = pendingFile(`${dir}/b.bin`, {
      tempPath: `${dir}/.b.partial`,
    });
    assert.equal(stable.tempPath, `${dir}/.b.partial`);
    assert.deepEqual(trackedTemps(), [], "kept for a later resume");
    await Deno.writeTextFile(stable.tempPath, "half");
    await stable.discard();
    await stable.discard(); // already gone: still fine
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["a.bin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
