/**
 * Reducing long series (a loss per step over 10,000 steps) to at most about
 * 1,000 points by keeping the minimum and maximum of each bucket, so loss
 * spikes survive the reduction.
 *
 * @module
 */

/**
 * Reduces a series to at most `maxPoints` points, keeping the first and last
 * point and, of each of `(maxPoints - 2) / 2` equal index buckets, the
 * points with the smallest and largest y (in index order), so spikes and
 * dips survive. A non-finite y inside a bucket is kept too, so gaps stay
 * gaps. Series that already fit are returned as copies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { downsampleMinMax } from "./downsample.ts";
 * const x = Array.from({ length: 10_000 }, (_, i) => i);
 * const y = x.map((i) => (i === 4321 ? 100 : 1));
 * const d = downsampleMinMax(x, y, 1000);
 * assert.ok(d.x.length <= 1000);
 * assert.ok(d.y.includes(100)); // the spike survives
 * ```
 */
export function downsampleMinMax(
  x: readonly number[],
  y: readonly number[],
  maxPoints: number,
): { x: number[]; y: number[] } {
  if (x.length !== y.length) {
    throw new RangeError(`x has ${x.length} values, y has ${y.length}`);
  }
  const keep = downsampleIndices(y, maxPoints);
  return { x: keep.map((i) => x[i]), y: keep.map((i) => y[i]) };
}

/**
 * The indices {@linkcode downsampleMinMax} keeps, ascending (a chart picks
 * its intervals and bands at the same indices as its values).
 */
export function downsampleIndices(
  y: readonly number[],
  maxPoints: number,
): number[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 4) {
    throw new RangeError(`maxPoints must be an integer >= 4`);
  }
  const n = y.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor((maxPoints - 2) / 2);
  const keep: number[] = [0];
  const inner = n - 2; // indices 1 .. n-2
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = -1, hi = -1, bad = -1;
    for (let i = start; i < end; i++) {
      const v = y[i];
      if (!Number.isFinite(v)) {
        if (bad < 0) bad = i;
        continue;
      }
      if (lo < 0 || v < y[lo]) lo = i;
      if (hi < 0 || v > y[hi]) hi = i;
    }
    const picked = [...new Set([lo, hi, bad].filter((i) => i >= 0))]
      .sort((a, b) => a - b);
    // A bucket holding both extremes and a gap emits 3 points: only series
    // full of gaps can exceed the budget, by one point per such bucket.
    keep.push(...picked);
  }
  keep.push(n - 1);
  return keep;
}
