/**
 * Statistics of an embedding matrix as a whole: its mean row (centroid),
 * the centroid's norm, and how far the centroid moved between two
 * snapshots.
 *
 * @module
 */

import { BlackHoleError } from "./black_hole_error.ts";

/**
 * The mean row of a float32 matrix, accumulated in float64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { centroid } from "./embedding_stats.ts";
 * assert.deepEqual([...centroid(new Float32Array([1, 2, 3, 6]), 2, 2)], [2, 4]);
 * ```
 */
export function centroid(
  embedding: Float32Array,
  rows: number,
  cols: number,
): Float64Array {
  if (embedding.length !== rows * cols || rows === 0) {
    throw new BlackHoleError(
      `embedding has ${embedding.length} values, expected ${rows} x ${cols} with rows > 0`,
    );
  }
  const sum = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) sum[c] += embedding[o + c];
  }
  for (let c = 0; c < cols; c++) sum[c] /= rows;
  return sum;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/**
 * L2 norm of the mean row (float64), as the seeds log it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { centroidNorm } from "./embedding_stats.ts";
 * // Mean row [3, 4].
 * assert.equal(centroidNorm(new Float32Array([3, 0, 3, 8]), 2, 2), 5);
 * ```
 */
export function centroidNorm(
  embedding: Float32Array,
  rows: number,
  cols: number,
): number {
  return norm(centroid(embedding, rows, cols));
}

/**
 * L2 norm of the difference between the mean rows of two matrices of the
 * same shape (e.g. the final embedding and step 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { centroidDisplacement } from "./embedding_stats.ts";
 * const a = new Float32Array([0, 0, 0, 0]);
 * const b = new Float32Array([3, 4, 3, 4]);
 * assert.equal(centroidDisplacement(a, b, 2, 2), 5);
 * ```
 */
export function centroidDisplacement(
  a: Float32Array,
  b: Float32Array,
  rows: number,
  cols: number,
): number {
  const ca = centroid(a, rows, cols);
  const cb = centroid(b, rows, cols);
  for (let c = 0; c < cols; c++) ca[c] -= cb[c];
  return norm(ca);
}
