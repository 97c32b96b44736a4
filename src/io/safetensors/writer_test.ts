import assert from "node:assert/strict";
import { parseSafetensors } from "./buffer.ts";
import { SafetensorsError } from "./error.ts";
import { encodeSafetensors, writeSafetensors } from "./writer.ts";
import { listDir, withTempDir } from "../../testing/helpers.ts";

const enc = new TextEncoder();

Deno.test("writeSafetensors() writes the exact bytes of the format", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/a.safetensors`;
    await writeSafetensors(path, {
      a: { dtype: "F32", shape: [2], data: new Float32Array([1, -2]) },
    });
    // Hand-counted: 54 characters of JSON, padded with 2 spaces to 56.
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    assert.equal(json.length, 54);
    const expected = new Uint8Array([
      ...[56, 0, 0, 0, 0, 0, 0, 0],
      ...enc.encode(json),
      0x20,
      0x20,
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0f = 0x3f800000, little-endian
      ...[0x00, 0x00, 0x00, 0xc0], // -2.0f = 0xc0000000
    ]);
    assert.deepEqual(await Deno.readFile(path), expected);
    assert.deepEqual(await listDir(dir), ["a.safetensors"]);
  });
});

Deno.test("writeSafetensors() puts metadata first and keeps insertion order", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/m.safetensors`;
    await writeSafetensors(path, {
      z: { dtype: "U8", shape: [3], data: new Uint8Array([7, 8, 9]) },
      b: { dtype: "BF16", shape: [1, 2], data: new Uint8Array([1, 2, 3, 4]) },
    }, { metadata: { k: "v" } });
    const json = '{"__metadata__":{"k":"v"},' +
      '"z":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},' +
      '"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[3,7]}}';
    // 26 + 52 + 56 = 134 characters, padded with 2 spaces to 136.
    assert.equal(json.length, 134);
    const bytes = await Deno.readFile(path);
    assert.equal(bytes.length, 8 + 136 + 7);
    assert.deepEqual(
      bytes.subarray(0, 8),
      new Uint8Array([136, 0, 0, 0, 0, 0, 0, 0]),
    );
    assert.equal(
      new TextDecoder().decode(bytes.subarray(8, 144)),
      json + "  ",
    );
    assert.deepEqual(
      bytes.subarray(144),
      new Uint8Array([7, 8, 9, 1, 2, 3, 4]),
    );
  });
});

Deno.test("writeSafetensors() rejects bad input and leaves nothing behind", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/w.safetensors`;
    await assert.rejects(
      writeSafetensors(path, {
        t: { dtype: "F32", shape: [3], data: new Float32Array(2) },
      }),
      /needs 12 bytes but data has 8 bytes/,
    );
    await assert.rejects(
      writeSafetensors(path, {
        __metadata__: { dtype: "U8", shape: [0], data: new Uint8Array(0) },
      }),
      /__metadata__/,
    );
    await assert.rejects(
      writeSafetensors(`${dir}/missing/w.safetensors`, {
        t: { dtype: "U8", shape: [1], data: new Uint8Array(1) },
      }),
      (e: unknown) => e instanceof SafetensorsError && e.code === "io",
    );
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("encodeSafetensors() gives the bytes writeSafetensors() writes", async () => {
  await withTempDir(async (dir) => {
    const tensors = {
      z: { dtype: "U8", shape: [3], data: new Uint8Array([7, 8, 9]) },
      w: { dtype: "F64", shape: [1, 2], data: new Float64Array([0.5, -3]) },
    } as const;
    const bytes = encodeSafetensors(tensors, { metadata: { k: "v" } });
    await writeSafetensors(`${dir}/e.safetensors`, tensors, {
      metadata: { k: "v" },
    });
    assert.deepEqual(await Deno.readFile(`${dir}/e.safetensors`), bytes);
    const back = parseSafetensors(bytes);
    assert.deepEqual(back.names(), ["z", "w"]);
    assert.deepEqual(back.tensorBytes("z"), new Uint8Array([7, 8, 9]));
    assert.throws(
      () =>
        encodeSafetensors({
          t: { dtype: "U8", shape: [2], data: new Uint8Array(1) },
        }),
      (e: unknown) =>
        e instanceof SafetensorsError && e.code === "invalid-argument" &&
        e.message.startsWith("<buffer>: "),
    );
  });
});
