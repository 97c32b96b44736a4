import assert from "node:assert/strict";
import {
  BF16_NAN_BITS,
  bf16Bits,
  bf16FromBits,
  isBf16Exact,
  roundArrayToBf16,
  roundToBf16,
} from "./bf16.ts";

// Written by tools/reference/make_bf16_cases.py: float32 bit patterns and the
// bfloat16 bits torch's `t.to(torch.bfloat16)` gives them.
const fixture: { cases: [number, number][]; nanInputs: number[] } = JSON.parse(
  await Deno.readTextFile(
    new URL("../../fixtures/bf16/rounding_cases.json", import.meta.url),
  ),
);

function f32FromBits(u: number): number {
  return new Float32Array(new Uint32Array([u]).buffer)[0];
}

function hex(u: number): string {
  return "0x" + u.toString(16).padStart(8, "0");
}

Deno.test("bf16Bits() and roundToBf16() match torch bit for bit", () => {
  assert.ok(fixture.cases.length >= 5000);
  for (const [u, want] of fixture.cases) {
    const x = f32FromBits(u);
    assert.equal(bf16Bits(x), want, `bf16Bits(${hex(u)})`);
    assert.ok(
      Object.is(roundToBf16(x), bf16FromBits(want)),
      `roundToBf16(${hex(u)}) = ${roundToBf16(x)}, want ${bf16FromBits(want)}`,
    );
  }
});

Deno.test("roundArrayToBf16() matches torch bit for bit, in place", () => {
  const n = fixture.cases.length;
  // Put the data at an offset inside a larger buffer to check the view.
  const backing = new Float32Array(n + 3);
  const a = backing.subarray(2, n + 2);
  const bits = new Uint32Array(a.buffer, a.byteOffset, n);
  fixture.cases.forEach(([u], i) => (bits[i] = u));
  backing[0] = 0.1;
  backing[n + 2] = 0.1;
  assert.equal(roundArrayToBf16(a), a);
  fixture.cases.forEach(([u, want], i) => {
    assert.equal(bits[i], want << 16 >>> 0, `element ${i} (${hex(u)})`);
  });
  // Neighbours outside the view are untouched.
  assert.equal(backing[0], Math.fround(0.1));
  assert.equal(backing[n + 2], Math.fround(0.1));
});

Deno.test("NaN stays NaN (canonical 0x7FC0)", () => {
  const a = new Float32Array(fixture.nanInputs.length);
  const u = new Uint32Array(a.buffer);
  fixture.nanInputs.forEach((b, i) => (u[i] = b));
  for (const b of fixture.nanInputs) {
    const x = f32FromBits(b);
    assert.ok(Number.isNaN(roundToBf16(x)), hex(b));
    assert.equal(bf16Bits(x), BF16_NAN_BITS, hex(b));
  }
  roundArrayToBf16(a);
  for (const v of u) assert.equal(v, 0x7fc00000);
});

Deno.test("hand-derived cases", () => {
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even 1.
  assert.equal(roundToBf16(1 + 2 ** -8), 1);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  assert.equal(roundToBf16(1 + 3 * 2 ** -8), 1 + 2 ** -6);
  // Just above a tie rounds up.
  assert.equal(roundToBf16(1 + 2 ** -8 + 2 ** -20), 1 + 2 ** -7);
  // 0.1f = 0x3DCCCCCD: kept half 0x3DCC, dropped 0xCCCD > 0x8000 -> 0x3DCD.
  assert.equal(bf16Bits(0.1), 0x3dcd);
  assert.equal(roundToBf16(0.1), 0.10009765625);
  // Largest finite bf16: (2 - 2^-7) * 2^127; half an ulp more (2^119) is a
  // tie after an odd significand, so it overflows to infinity.
  const max = (2 - 2 ** -7) * 2 ** 127;
  assert.equal(roundToBf16(max), max);
  assert.equal(roundToBf16(max + 2 ** 119), Infinity);
  assert.equal(roundToBf16(-(max + 2 ** 119)), -Infinity);
  assert.equal(roundToBf16(max + 2 ** 118), max);
  // Signed zero and infinities.
  assert.ok(Object.is(roundToBf16(-0), -0));
  assert.ok(Object.is(roundToBf16(0), 0));
  assert.equal(roundToBf16(Infinity), Infinity);
  assert.equal(roundToBf16(-Infinity), -Infinity);
  // Smallest float32 subnormal 2^-149 is below half the smallest bf16
  // subnormal 2^-133, so it rounds to zero; 2^-133 itself is kept.
  assert.equal(roundToBf16(2 ** -149), 0);
  assert.ok(Object.is(roundToBf16(-(2 ** -149)), -0));
  assert.equal(roundToBf16(2 ** -133), 2 ** -133);
  assert.equal(roundToBf16(3 * 2 ** -134), 2 ** -132); // tie after odd 1 -> 2
});

Deno.test("bf16FromBits() decodes and validates", () => {
  assert.equal(bf16FromBits(0x3f80), 1);
  assert.equal(bf16FromBits(0xc000), -2);
  assert.equal(bf16FromBits(0x7f80), Infinity);
  assert.ok(Number.isNaN(bf16FromBits(0x7fc0)));
  assert.equal(bf16FromBits(0x0001), 2 ** -133);
  for (const bad of [-1, 0x10000, 1.5]) {
    assert.throws(() => bf16FromBits(bad), RangeError);
  }
});

Deno.test("isBf16Exact()", () => {
  assert.ok(isBf16Exact(1.5));
  assert.ok(isBf16Exact(-0));
  assert.ok(isBf16Exact(Infinity));
  assert.ok(isBf16Exact(2 ** -133));
  assert.ok(isBf16Exact(0.10009765625));
  assert.ok(!isBf16Exact(0.1));
  assert.ok(!isBf16Exact(1 + 2 ** -8));
  assert.ok(!isBf16Exact(1 + 2 ** -40)); // not even a float32
  assert.ok(!isBf16Exact(Number.NaN));
  for (const [u, want] of fixture.cases.slice(0, 500)) {
    assert.equal(isBf16Exact(f32FromBits(u)), (u & 0xffff) === 0, hex(u));
    assert.ok(isBf16Exact(bf16FromBits(want)));
  }
});
