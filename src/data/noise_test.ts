import assert from "node:assert/strict";
import { noiseForStep } from "./noise.ts";
import { isBf16Exact } from "./bf16.ts";
import { Pcg32, Stream } from "./rng.ts";
import type { NormalSource } from "./rng.ts";

/** A NormalSource that returns the given draws in order, then fails. */
function fake(draws: number[]): NormalSource & { used: number } {
  const src = {
    used: 0,
    normal(): number {
      if (src.used >= draws.length) throw new Error("too many draws");
      return draws[src.used++];
    },
  };
  return src;
}

Deno.test("bf16 noise: hand-derived values", () => {
  // 1. z = 1 + 2^-8 + 2^-9: the dropped part is 0.75 of a bf16 ulp (2^-7),
  //    so bf16(z) = 1 + 2^-7; times 0.5 is exact: 0.50390625.
  // 2. z = 1.5, scale 1 + 2^-8 + 2^-9 (a float32): the float32 product
  //    1.5087890625 = 1 + 65.125 * 2^-7 rounds to 1 + 65 * 2^-7 = 1.5078125.
  //    (Rounding the scale to bf16 first, as torch 1.x did, would give
  //    1.5 * (1 + 2^-7) = 1 + 65.5 * 2^-7 -> 1.515625.)
  const a = noiseForStep(fake([1 + 2 ** -8 + 2 ** -9]), {
    rows: 1,
    cols: 1,
    scale: 0.5,
    precision: "bf16",
  });
  assert.equal(a[0], 0.50390625);
  const b = noiseForStep(fake([1.5]), {
    rows: 1,
    cols: 1,
    scale: 1 + 2 ** -8 + 2 ** -9,
    precision: "bf16",
  });
  assert.equal(b[0], 1.5078125);
});

Deno.test("bf16 noise at the seed's scale 3e-6", () => {
  // f32(3e-6) = 3298535 * 2^-40 (3e-6 * 2^40 = 3298534.88...).
  // z = 1: bf16(3298535 * 2^-40); 3298535 / 2^14 = 201.33 -> 201 * 2^-26.
  // z = -2.3: bf16(2.3) = 147 * 2^-6 (2.3 * 64 = 147.2). Product
  //   147 * 3298535 = 484884645 (29 bits) * 2^-46; to float32 (24 bits):
  //   484884645 / 32 = 15152645.16 -> 484884640; to bf16 (8 bits):
  //   484884640 / 2^21 = 231.2 -> 231 * 2^21, i.e. -231 * 2^-25.
  // z = +-0 keeps its sign; z = 0.75 gives 0.75 * f32(3e-6) rounded:
  //   3 * 3298535 = 9895605 (24 bits) * 2^-42 -> 9895605 / 2^16 = 150.99
  //   -> 151 * 2^-26.
  const src = fake([1, -2.3, 0, -0, 0.75, 1]);
  const out = noiseForStep(src, {
    rows: 2,
    cols: 3,
    scale: 3e-6,
    precision: "bf16",
  });
  assert.equal(src.used, 6);
  assert.equal(out[0], 201 * 2 ** -26);
  assert.equal(out[1], -231 * 2 ** -25);
  assert.ok(Object.is(out[2], 0));
  assert.ok(Object.is(out[3], -0));
  assert.equal(out[4], 151 * 2 ** -26);
  assert.equal(out[5], out[0]);
});

Deno.test("fp32 noise: hand-derived values", () => {
  // 0.1 * 0.5: halving a float32 is exact.
  // (1/3) * 3: f32(1/3) = 11184811 * 2^-25, times 3 = 1 + 2^-25, which is a
  //   quarter float32 ulp above 1 and rounds to 1.
  // 1.5 * (1 + 2^-8 + 2^-9) = 1.5087890625 exactly (no bf16 rounding here).
  const out = noiseForStep(fake([0.1, 1 / 3]), {
    rows: 1,
    cols: 2,
    scale: 0.5,
    precision: "fp32",
  });
  assert.equal(out[0], Math.fround(0.1) / 2);
  assert.equal(out[1], Math.fround(1 / 3) / 2);
  const third = noiseForStep(fake([1 / 3]), {
    rows: 1,
    cols: 1,
    scale: 3,
    precision: "fp32",
  });
  assert.equal(third[0], 1);
  const c = noiseForStep(fake([1.5]), {
    rows: 1,
    cols: 1,
    scale: 1 + 2 ** -8 + 2 ** -9,
    precision: "fp32",
  });
  assert.equal(c[0], 1.5087890625);
});

Deno.test("noise with a real generator: bf16-exact, right spread, replayable", () => {
  const opts = {
    rows: 128,
    cols: 64,
    scale: 3e-6,
    precision: "bf16" as const,
  };
  const a = noiseForStep(new Pcg32(42, Stream.noise), opts);
  const b = noiseForStep(new Pcg32(42, Stream.noise), opts);
  assert.deepEqual(a, b);
  let sumSq = 0;
  for (const v of a) {
    assert.ok(isBf16Exact(v));
    sumSq += v * v;
  }
  const rms = Math.sqrt(sumSq / a.length);
  // 8192 draws: the sample RMS is within a few percent of 3e-6.
  assert.ok(Math.abs(rms / 3e-6 - 1) < 0.05, `rms ${rms}`);

  // The same draws in fp32 mode agree to bf16 precision (2^-8 relative).
  const f = noiseForStep(new Pcg32(42, Stream.noise), {
    ...opts,
    precision: "fp32",
  });
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - f[i]) <= Math.abs(f[i]) * 2 ** -7, `${i}`);
  }
});

Deno.test("noise fills a given buffer and validates its arguments", () => {
  const out = new Float32Array(4);
  const got = noiseForStep(fake([1, 2, 3, 4]), {
    rows: 2,
    cols: 2,
    scale: 1,
    precision: "fp32",
    out,
  });
  assert.equal(got, out);
  assert.deepEqual(Array.from(out), [1, 2, 3, 4]);

  const base = { rows: 2, cols: 2, scale: 1, precision: "fp32" as const };
  assert.throws(
    () => noiseForStep(fake([]), { ...base, out: new Float32Array(3) }),
    /length 3, expected 2 \* 2 = 4/,
  );
  assert.throws(
    () => noiseForStep(fake([]), { ...base, rows: -1 }),
    RangeError,
  );
  assert.throws(
    () => noiseForStep(fake([]), { ...base, cols: 1.5 }),
    RangeError,
  );
  assert.throws(
    () => noiseForStep(fake([]), { ...base, scale: Number.NaN }),
    RangeError,
  );
  assert.throws(
    () => noiseForStep(fake([]), { ...base, precision: "fp16" as "fp32" }),
    /precision must be "bf16" or "fp32"/,
  );
});
