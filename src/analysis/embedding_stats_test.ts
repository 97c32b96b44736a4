import assert from "node:assert/strict";
import { BlackHoleError } from "./black_hole_error.ts";
import {
  centroid,
  centroidDisplacement,
  centroidNorm,
} from "./embedding_stats.ts";

Deno.test("centroid(), centroidNorm() and centroidDisplacement() by hand", () => {
  // Rows [1, 2], [3, 4], [5, 12]: mean [3, 6], norm sqrt(45).
  const a = new Float32Array([1, 2, 3, 4, 5, 12]);
  assert.deepEqual([...centroid(a, 3, 2)], [3, 6]);
  assert.equal(centroidNorm(a, 3, 2), Math.sqrt(45));
  // b's mean is [0, 2]: displacement |[3, 4]| = 5.
  const b = new Float32Array([0, 1, 0, 3, 0, 2]);
  assert.equal(centroidDisplacement(a, b, 3, 2), 5);
  // float64 accumulation: 2^24 + 1 + 1 - 2^24 is exact in float64 only.
  const big = new Float32Array([2 ** 24, 1, 1, -(2 ** 24)]);
  assert.equal(centroidNorm(big, 4, 1), 0.5);
  assert.throws(() => centroidNorm(a, 2, 2), BlackHoleError);
});
