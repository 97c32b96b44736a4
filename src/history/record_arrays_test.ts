import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { parseSafetensors } from "../io/safetensors/buffer.ts";
import {
  decodeArrays,
  encodeArrays,
  type NamedArray,
} from "./record_arrays.ts";

/** The safetensors file inside an arrays file. */
const inner = (file: Uint8Array) =>
  parseSafetensors(new Uint8Array(gunzipSync(file)));

Deno.test("each array takes the narrowest type that holds every value exactly", () => {
  const arrays: NamedArray[] = [
    // 0.5 and 1.25 are float32 values; 0.1 is not (its float32 is
    // 0.100000001490116...), so one 0.1 makes the array F64.
    { name: "f32", kind: "float", values: [0.5, 1.25, -0] },
    { name: "f64", kind: "float", values: [0.5, 0.1] },
    { name: "special", kind: "float", values: [NaN, Infinity, -Infinity] },
    { name: "u8", kind: "count", values: [0, 255] },
    { name: "u16", kind: "count", values: [0, 256, 65535] },
    { name: "u32", kind: "count", values: [65536, 2 ** 32 - 1] },
    // Counts that are no counts fall back to the float types.
    { name: "negative", kind: "count", values: [-1, 3] },
    { name: "minus zero", kind: "count", values: [-0] },
    { name: "huge", kind: "count", values: [2 ** 32, 2 ** 53 - 1] },
    { name: "empty", kind: "float", values: [] },
  ];
  const file = encodeArrays(arrays);
  const meta = inner(file).metadata;
  assert.deepEqual(
    arrays.map((a) => meta[a.name]),
    ["F32", "F64", "F32", "U8", "U16", "U32", "F32", "F32", "F64", "F32"],
  );
  const back = decodeArrays(file, "a.safetensors.gz");
  for (const a of arrays) {
    const got = back.get(a.name)!;
    assert.equal(got.length, a.values.length, a.name);
    a.values.forEach((x, i) =>
      assert.ok(Object.is(got[i], x), `${a.name}[${i}]`)
    );
  }
});

Deno.test("byte planes: row k holds byte k (little-endian) of every element", () => {
  // 1.0f = 0x3f800000 and 2.0f = 0x40000000, little-endian 00 00 80 3f and
  // 00 00 00 40; 0x0102 as U16 is 02 01.
  const st = inner(encodeArrays([
    { name: "x", kind: "float", values: [1, 2.5e-1 * 8] },
    { name: "n", kind: "count", values: [0x0102, 0x0304] },
  ]));
  assert.deepEqual(st.tensor("x").shape, [4, 2]);
  assert.equal(st.tensor("x").dtype, "U8");
  assert.deepEqual(
    [...st.tensorBytes("x")],
    [0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x3f, 0x40],
  );
  assert.deepEqual([...st.tensorBytes("n")], [0x02, 0x04, 0x01, 0x03]);
});

Deno.test("a damaged arrays file is an error saying what is wrong", () => {
  const file = encodeArrays([{ name: "x", kind: "float", values: [1, 2] }]);
  assert.throws(
    () => decodeArrays(file.subarray(0, 20), "a"),
    /not a gzip stream/,
  );
  assert.throws(() => decodeArrays(file, "a", 16), /at most 16 bytes/);
  assert.throws(
    () => decodeArrays(new Uint8Array([1, 2, 3]), "a"),
    /not a gzip stream/,
  );
});
