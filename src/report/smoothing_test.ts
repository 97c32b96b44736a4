import assert from "node:assert/strict";
import { movingAverage, smoothingWindow } from "./smoothing.ts";

Deno.test("movingAverage() is centered and shrinks at the ends (hand-computed)", () => {
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 3), [1.5, 2, 3, 4, 4.5]);
  // window 5 at index 0 covers [0, 2]: (1 + 2 + 3) / 3 = 2
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 5), [2, 2.5, 3, 3.5, 4]);
  assert.deepEqual(movingAverage([7, 8], 1), [7, 8]);
  assert.deepEqual(movingAverage([], 3), []);
});

Deno.test("movingAverage() keeps non-finite points as gaps and skips them in neighbours", () => {
  const out = movingAverage([2, 4, NaN, 8], 3);
  assert.equal(out[0], 3); // (2 + 4) / 2
  assert.equal(out[1], 3); // (2 + 4) / 2, NaN left out
  assert.ok(Number.isNaN(out[2]));
  assert.equal(out[3], 8);
  assert.throws(() => movingAverage([1], 2), RangeError);
  assert.throws(() => movingAverage([1], 0), RangeError);
});

Deno.test("smoothingWindow() is odd, about n / 50, within [1, 501]", () => {
  assert.equal(smoothingWindow(10_000), 201);
  assert.equal(smoothingWindow(20), 1);
  assert.equal(smoothingWindow(100), 3);
  assert.equal(smoothingWindow(150), 3);
  assert.equal(smoothingWindow(1_000_000), 501);
});
