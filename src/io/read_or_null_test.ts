import assert from "node:assert/strict";
import { readFileOrNull, readTextFileOrNull } from "./read_or_null.ts";

Deno.test("a present file is read whole, bytes and text alike", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f`;
    await Deno.writeFile(path, new Uint8Array([0x68, 0xc3, 0xa9, 0x00]));
    assert.deepEqual(
      await readFileOrNull(path),
      new Uint8Array([0x68, 0xc3, 0xa9, 0x00]),
    );
    // 0xc3 0xa9 is U+00E9 in UTF-8.
    assert.equal(await readTextFileOrNull(path), "h\u00e9\u0000");
    assert.deepEqual(
      await readFileOrNull(new URL(`file://${path}`)),
      new Uint8Array([0x68, 0xc3, 0xa9, 0x00]),
    );
    await Deno.writeFile(`${dir}/empty`, new Uint8Array());
    assert.deepEqual(await readFileOrNull(`${dir}/empty`), new Uint8Array());
    assert.equal(await readTextFileOrNull(`${dir}/empty`), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("absence is null, also under a missing folder and for a dangling link", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readFileOrNull(`${dir}/none`), null);
    assert.equal(await readTextFileOrNull(`${dir}/no/such/dir/f`), null);
    await Deno.symlink(`${dir}/target-absent`, `${dir}/link`);
    assert.equal(await readFileOrNull(`${dir}/link`), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("errors other than absence are thrown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A folder is there: not absence.
    await Deno.mkdir(`${dir}/sub`);
    await assert.rejects(() => readFileOrNull(`${dir}/sub`));
    await assert.rejects(() => readTextFileOrNull(`${dir}/sub`));
    // A file used as a folder: ENOTDIR, not absence.
    await Deno.writeTextFile(`${dir}/file`, "x");
    await assert.rejects(
      () => readFileOrNull(`${dir}/file/inside`),
      (e) => !(e instanceof Deno.errors.NotFound),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
