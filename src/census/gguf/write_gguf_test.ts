import assert from "node:assert/strict";
import { quantizeQ4_0, quantizeQ8_0, toF16Bytes } from "./write_gguf.ts";
import { parseGgufHeader } from "./header.ts";
import { encodeGguf } from "./write_gguf.ts";

Deno.test("quantizeQ8_0 follows ggml's reference: d = max|x|/127 as F16, roundf(x/d)", () => {
  const x = new Float32Array(32);
  x.set([127, -63.5, 63.5, 0.4, -0.6, 1]); // d = 1: halves go away from zero
  const q = quantizeQ8_0(x);
  assert.deepEqual([...q.subarray(0, 2)], [0x00, 0x3c]); // F16 1.0
  const qs = new Int8Array(q.buffer, 2, 32);
  assert.deepEqual([...qs.subarray(0, 7)], [127, -64, 64, 0, -1, 1, 0]);
  // A second block with amax 0.5: d = f16(0.5 / 127), every value rounds.
  const y = new Float32Array(64);
  y.set([0.5, -0.2], 32);
  const q2 = quantizeQ8_0(y);
  assert.equal(q2.length, 68);
  assert.deepEqual([...q2.subarray(0, 2)], [0, 0]); // all-zero block: d = 0
  assert.deepEqual([...q2.subarray(34, 36)], [...toF16Bytes([0.5 / 127])]);
  assert.deepEqual([...new Int8Array(q2.buffer, 36, 2)], [127, -51]);
});

Deno.test("quantizeQ4_0 follows ggml's reference: d = max/-8, min(15, trunc(x/d + 8.5)), split nibbles", () => {
  const x = new Float32Array(32);
  x.set([-8, 3, 7.9, -2.2]); // max = -8 -> d = 1
  x[16] = 4; // high nibble of byte 0
  const q = quantizeQ4_0(x);
  assert.deepEqual([...q.subarray(0, 2)], [0x00, 0x3c]); // F16 1.0
  // byte j = q[j] | q[j + 16] << 4; zeros quantize to 8.
  assert.deepEqual([...q.subarray(2, 6)], [
    0 | (12 << 4),
    11 | (8 << 4),
    15 | (8 << 4),
    6 | (8 << 4),
  ]);
  const y = new Float32Array(32);
  y.set([8, -3]); // max = +8 -> d = -1: signs flip
  const p = quantizeQ4_0(y);
  assert.deepEqual([...p.subarray(0, 2)], [0x00, 0xbc]); // F16 -1.0
  assert.deepEqual([...p.subarray(2, 4)], [0 | (8 << 4), 11 | (8 << 4)]);
});

Deno.test("encodeGguf writes aligned data that parseGgufHeader reads back", () => {
  const bytes = encodeGguf({
    version: 2,
    metadata: { "general.alignment": 64, "general.name": "x" },
    tensors: [
      { name: "a", type: "Q8_0", shape: [3, 32], data: new Uint8Array(102) },
      { name: "b", type: "F32", shape: [5], data: new Uint8Array(20) },
    ],
  });
  const h = parseGgufHeader(bytes, { path: "x.gguf", fileSize: bytes.length });
  assert.equal(h.version, 2);
  assert.equal(h.alignment, 64);
  assert.equal(h.dataStart % 64, 0);
  const a = h.tensors.get("a")!;
  const b = h.tensors.get("b")!;
  assert.deepEqual([a.type.name, a.dims, a.shape, a.rowBytes, a.byteLength], [
    "Q8_0",
    [32, 3],
    [3, 32],
    34,
    102,
  ]);
  assert.equal(b.byteOffset, h.dataStart + 128); // 102 bytes padded to 128
  assert.equal(bytes.length, b.byteOffset + 64);
});
