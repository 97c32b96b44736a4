/**
 * Leaving out the points of a polyline that do not change its picture:
 * those within a fraction of a pixel of the line drawn without them.
 *
 * @module
 */

/**
 * The indices of the points to keep of the polyline through
 * `(xs[i], ys[i])` (in px), ascending, so that every point left out lies
 * within `tolerance` px of the polyline through the kept ones
 * (Ramer–Douglas–Peucker, distances to segments). The first and last
 * points are always kept, and so is any point farther than `tolerance`
 * from the kept line: a spike or a dip stays where it is. A smooth curve
 * (a moving average) keeps a few points per bend; a noisy one keeps most.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simplifyPolyline } from "./simplify.ts";
 * // A straight run with one spike: the run's inner points go, the spike stays.
 * const xs = [0, 1, 2, 3, 4, 5, 6];
 * const ys = [0, 0, 0, 9, 0, 0, 0];
 * assert.deepEqual(simplifyPolyline(xs, ys, 0.1), [0, 2, 3, 4, 6]);
 * ```
 */
export function simplifyPolyline(
  xs: readonly number[],
  ys: readonly number[],
  tolerance: number,
): number[] {
  const n = xs.length;
  if (ys.length !== n) {
    throw new RangeError(`xs has ${n} values, ys has ${ys.length}`);
  }
  if (n <= 2) return Array.from({ length: n }, (_, i) => i);
  const keep = new Uint8Array(n);
  keep[0] = keep[n - 1] = 1;
  // An explicit stack: a 10,000-point noisy series must not overflow the
  // call stack.
  const stack: [number, number][] = [[0, n - 1]];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    let far = -1;
    let farthest = tolerance;
    for (let i = a + 1; i < b; i++) {
      const d = segmentDistance(xs[i], ys[i], xs[a], ys[a], xs[b], ys[b]);
      if (d > farthest) {
        farthest = d;
        far = i;
      }
    }
    if (far < 0) continue;
    keep[far] = 1;
    stack.push([a, far], [far, b]);
  }
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) kept.push(i);
  return kept;
}

/** The distance from (px, py) to the segment from (ax, ay) to (bx, by). */
export function segmentDistance(
  px: number,
  py: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0
    ? 0
    : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}
