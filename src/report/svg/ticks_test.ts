import assert from "node:assert/strict";
import { formatTick, logTicks, niceTicks } from "./ticks.ts";

Deno.test("niceTicks() picks 1/2/5 x 10^k steps covering the range (hand-derived)", () => {
  // raw step 10/5 = 2 -> 2
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  // raw 0.2 -> 0.2; values must print as 0.6, not 0.6000000000000001
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  // raw 94/5 = 18.8 -> 20; 3 rounds down to 0, 97 up to 100
  assert.deepEqual(niceTicks(3, 97, 5), [0, 20, 40, 60, 80, 100]);
  // raw 3.48/4 = 0.87 -> 1 (the mantissa 8.7 rounds up to the next decade)
  assert.deepEqual(niceTicks(1.37, 4.85, 4), [1, 2, 3, 4, 5]);
  // negative lower end: floor(-0.3/0.2) = -2 -> -0.4; no -0 in the output
  const neg = niceTicks(-0.3, 0.7, 5);
  assert.deepEqual(neg, [-0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8]);
  assert.ok(!Object.is(neg[2], -0));
  // raw 0.0074/4 = 0.00185 -> 0.002
  assert.deepEqual(niceTicks(0.0013, 0.0087, 4), [
    0,
    0.002,
    0.004,
    0.006,
    0.008,
    0.01,
  ]);
  assert.deepEqual(niceTicks(0, 10_000, 5), [0, 2000, 4000, 6000, 8000, 10000]);
  // 0.6 / 0.2 = 2.9999999999999996 in floating point: still a tick, not 0.4
  assert.deepEqual(niceTicks(0.6, 1.2, 3), [0.6, 0.8, 1, 1.2]);
  // zero-width range widened by 10%: [4.5, 5.5], step 0.2
  assert.deepEqual(niceTicks(5, 5, 5), [4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]);
  assert.deepEqual(niceTicks(0, 0, 2), [-1, 0, 1]);
});

Deno.test("niceTicks() with integer steps never goes below 1", () => {
  assert.deepEqual(niceTicks(1, 2, 5, { integer: true }), [1, 2]);
  assert.deepEqual(niceTicks(0, 51, 5, { integer: true }), [0, 20, 40, 60]);
  assert.deepEqual(niceTicks(1, 1, 5, { integer: true }), [0, 1, 2]);
});

Deno.test("niceTicks() rejects bad input", () => {
  assert.throws(() => niceTicks(1, 0, 5), RangeError);
  assert.throws(() => niceTicks(NaN, 1, 5), RangeError);
  assert.throws(() => niceTicks(0, Infinity, 5), RangeError);
  assert.throws(() => niceTicks(0, 1, 0), RangeError);
});

Deno.test("logTicks() uses decades, adding 2 and 5 over short ranges", () => {
  assert.deepEqual(logTicks(0.002, 30), [0.001, 0.01, 0.1, 1, 10, 100]);
  assert.deepEqual(logTicks(1.5, 4.8), [1, 2, 5]);
  assert.deepEqual(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
  assert.deepEqual(logTicks(0.03, 0.07), [0.02, 0.05, 0.1]);
  assert.throws(() => logTicks(0, 1), RangeError);
});

Deno.test("formatTick() uses the step's decimals and groups thousands", () => {
  assert.equal(formatTick(10000, 2000), "10,000");
  assert.equal(formatTick(1234567, 1), "1,234,567");
  assert.equal(formatTick(0.6, 0.2), "0.6");
  assert.equal(formatTick(1, 0.2), "1.0");
  assert.equal(formatTick(0.75, 0.25), "0.75");
  assert.equal(formatTick(-0.4, 0.2), "-0.4");
  assert.equal(formatTick(0, 0.2), "0");
  assert.equal(formatTick(0.000004, 0.000002), "4e-6");
  assert.equal(formatTick(20_000_000, 10_000_000), "2e7");
});
