import assert from "node:assert/strict";
import {
  bf16BytesToFloat32,
  f16BytesToFloat32,
  float32ToBf16Bytes,
} from "./codecs.ts";

Deno.test("float32ToBf16Bytes() keeps bf16 values and rounds others to nearest even", () => {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const bf16Of = (bits: number) => {
    u[0] = bits;
    const b = float32ToBf16Bytes(f);
    return b[0] | (b[1] << 8);
  };
  assert.equal(bf16Of(0x3f800000), 0x3f80); // 1
  assert.equal(bf16Of(0xc0000000), 0xc000); // -2
  assert.equal(bf16Of(0x80000000), 0x8000); // -0 keeps its sign
  assert.equal(bf16Of(0x3f808000), 0x3f80); // tie, even neighbour below
  assert.equal(bf16Of(0x3f818000), 0x3f82); // tie, even neighbour above
  assert.equal(bf16Of(0x3f808001), 0x3f81); // just above the tie
  assert.equal(bf16Of(0x3f807fff), 0x3f80); // just below the tie
  assert.equal(bf16Of(0x7f7fffff), 0x7f80); // max float rounds to +inf
  assert.equal(bf16Of(0xff800000), 0xff80); // -inf
  assert.equal(bf16Of(0x00000001), 0x0000); // tiny subnormal rounds to 0
  // Every NaN is the canonical quiet NaN of data/bf16.ts (c10's rule):
  assert.equal(bf16Of(0x7f800001), 0x7fc0); // signalling NaN
  assert.equal(bf16Of(0xffc00000), 0x7fc0); // negative quiet NaN: sign dropped
  assert.equal(bf16Of(0x7fffffff), 0x7fc0); // payload dropped

  assert.deepEqual(
    float32ToBf16Bytes(new Float32Array([1, -2, 0.5])),
    new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f]),
  );
});

Deno.test("float32ToBf16Bytes() matches torch bit for bit and leaves its input alone", async () => {
  // Written by tools/reference/make_bf16_cases.py from t.to(torch.bfloat16).
  const fixture: { cases: [number, number][] } = JSON.parse(
    await Deno.readTextFile(
      new URL("../../../fixtures/bf16/rounding_cases.json", import.meta.url),
    ),
  );
  assert.ok(fixture.cases.length >= 5000);
  const input = new Uint32Array(fixture.cases.map(([u]) => u));
  const f32 = new Float32Array(input.buffer);
  const bytes = float32ToBf16Bytes(f32);
  fixture.cases.forEach(([u, want], i) => {
    const got = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    assert.equal(got, want, `0x${u.toString(16)}`);
  });
  assert.deepEqual(
    new Uint32Array(f32.buffer),
    new Uint32Array(fixture.cases.map(([u]) => u)),
  );
});

Deno.test("bf16BytesToFloat32() and f16BytesToFloat32() decode exactly", () => {
  assert.deepEqual(
    bf16BytesToFloat32(
      new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0x80, 0x7f, 0x00, 0x80]),
    ),
    new Float32Array([1, -2, Infinity, -0]),
  );
  assert.ok(Object.is(bf16BytesToFloat32(new Uint8Array([0, 0x80]))[0], -0));
  assert.throws(() => bf16BytesToFloat32(new Uint8Array(3)), RangeError);

  const f16 = f16BytesToFloat32(
    new Uint8Array([
      ...[0x00, 0x3c], // 1
      ...[0x00, 0xc0], // -2
      ...[0x01, 0x00], // smallest subnormal 2^-24
      ...[0x00, 0x7c], // +inf
      ...[0x55, 0x35], // 0x3555 = (1 + 341/1024) / 4
      ...[0xff, 0x7b], // 65504, largest finite
    ]),
  );
  assert.deepEqual(
    [...f16],
    [1, -2, 2 ** -24, Infinity, (1 + 341 / 1024) / 4, 65504],
  );
  assert.ok(Number.isNaN(f16BytesToFloat32(new Uint8Array([0x00, 0x7e]))[0]));
});
