import assert from "node:assert/strict";
import { openModelWeights } from "./model_files.ts";
import { CensusError } from "./census_error.ts";
import { writeSafetensors } from "../io/safetensors/mod.ts";
import { withTempDir } from "../testing/helpers.ts";

const u8 = (n: number) => ({
  dtype: "U8" as const,
  shape: [n],
  data: new Uint8Array(n),
});

Deno.test("openModelWeights() opens a single file and names its folder", async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(`${dir}/w.safetensors`, { a: u8(1), b: u8(2) });
    const w = await openModelWeights(`${dir}/w.safetensors`);
    try {
      assert.equal(w.dir, dir);
      assert.equal(w.index, null);
      assert.deepEqual([...w.tensorFile.keys()], ["a", "b"]);
    } finally {
      w.close();
    }
  });
});

Deno.test("openModelWeights() prefers model.safetensors, else every .safetensors file", async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(`${dir}/b.safetensors`, { y: u8(1) });
    await writeSafetensors(`${dir}/a.safetensors`, { x: u8(1) });
    const both = await openModelWeights(dir);
    try {
      assert.deepEqual(both.files.map((f) => f.path), [
        `${dir}/a.safetensors`,
        `${dir}/b.safetensors`,
      ]);
      assert.equal(both.tensorFile.get("y")?.path, `${dir}/b.safetensors`);
    } finally {
      both.close();
    }
    await writeSafetensors(`${dir}/model.safetensors`, { z: u8(1) });
    const single = await openModelWeights(dir);
    try {
      assert.deepEqual([...single.tensorFile.keys()], ["z"]);
    } finally {
      single.close();
    }
  });
});

Deno.test("openModelWeights() rejects a tensor stored in two files", async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(`${dir}/a.safetensors`, { x: u8(1) });
    await writeSafetensors(`${dir}/b.safetensors`, { x: u8(1) });
    await assert.rejects(openModelWeights(dir), (e: unknown) => {
      assert.ok(e instanceof CensusError);
      assert.equal(e.code, "bad-index");
      assert.match(e.message, /tensor "x" is stored twice/);
      return true;
    });
  });
});

Deno.test("openModelWeights() follows an index to its shards", async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(`${dir}/s1.safetensors`, { a: u8(1) });
    await writeSafetensors(`${dir}/s2.safetensors`, { b: u8(1), c: u8(1) });
    await writeSafetensors(`${dir}/stray.safetensors`, { d: u8(1) });
    await Deno.writeTextFile(
      `${dir}/model.safetensors.index.json`,
      JSON.stringify({
        weight_map: {
          a: "s1.safetensors",
          b: "s2.safetensors",
          c: "s2.safetensors",
        },
      }),
    );
    const w = await openModelWeights(dir);
    try {
      assert.equal(w.index, `${dir}/model.safetensors.index.json`);
      // Only the shards the index names are opened.
      assert.deepEqual(w.files.map((f) => f.path), [
        `${dir}/s1.safetensors`,
        `${dir}/s2.safetensors`,
      ]);
      assert.equal(w.tensorFile.get("c")?.path, `${dir}/s2.safetensors`);
      assert.equal(w.tensorFile.has("d"), false);
    } finally {
      w.close();
    }
  });
});

Deno.test("openModelWeights() follows symlinked shards in a folder without an index", async () => {
  await withTempDir(async (dir) => {
    // Shards live in a cache folder; the model folder holds links to them
    // (as Hugging Face's snapshot folders do), plus a dangling link.
    await Deno.mkdir(`${dir}/blobs`);
    await Deno.mkdir(`${dir}/model`);
    await writeSafetensors(`${dir}/blobs/1`, { x: u8(1) });
    await writeSafetensors(`${dir}/blobs/2`, { y: u8(2) });
    await Deno.symlink(`${dir}/blobs/1`, `${dir}/model/part-1.safetensors`);
    await Deno.symlink("../blobs/2", `${dir}/model/part-2.safetensors`);
    await Deno.symlink(`${dir}/gone`, `${dir}/model/part-3.safetensors`);
    await Deno.symlink(`${dir}/blobs`, `${dir}/model/dir.safetensors`);
    const w = await openModelWeights(`${dir}/model`);
    try {
      assert.deepEqual(w.files.map((f) => f.path), [
        `${dir}/model/part-1.safetensors`,
        `${dir}/model/part-2.safetensors`,
      ]);
      assert.equal(
        w.tensorFile.get("y")?.path,
        `${dir}/model/part-2.safetensors`,
      );
    } finally {
      w.close();
    }
    // A single symlinked model.safetensors was always followed; a folder
    // under that name is refused with a clear message.
    await Deno.mkdir(`${dir}/odd/model.safetensors`, { recursive: true });
    await assert.rejects(
      openModelWeights(`${dir}/odd`),
      (e: unknown) =>
        e instanceof CensusError && e.code === "no-weights" &&
        /model\.safetensors is not a file/.test(e.message),
    );
  });
});
