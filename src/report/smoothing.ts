/**
 * Smoothing a noisy per-step series (the training loss) for its plot: a
 * centered moving average, and the window that suits a run's length.
 *
 * @module
 */

/**
 * Centered moving average: each output is the mean of the finite inputs
 * within `window` (odd) positions around it, the window shrinking at the
 * ends. A non-finite input stays non-finite in the output, so divergence
 * shows as a gap rather than being averaged away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { movingAverage } from "./smoothing.ts";
 * assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 3), [1.5, 2, 3, 4, 4.5]);
 * ```
 */
export function movingAverage(
  values: readonly number[],
  window: number,
): number[] {
  if (!Number.isInteger(window) || window < 1 || window % 2 === 0) {
    throw new RangeError(
      `window must be an odd positive integer, got ${window}`,
    );
  }
  const n = values.length;
  // Prefix sums in float64: O(n) and the same result on every machine.
  const sum = new Float64Array(n + 1);
  const count = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const ok = Number.isFinite(values[i]);
    sum[i + 1] = sum[i] + (ok ? values[i] : 0);
    count[i + 1] = count[i] + (ok ? 1 : 0);
  }
  const half = (window - 1) / 2;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i])) {
      out[i] = values[i];
      continue;
    }
    const lo = Math.max(0, i - half);
    const hi = Math.min(n, i + half + 1);
    out[i] = (sum[hi] - sum[lo]) / (count[hi] - count[lo]);
  }
  return out;
}

/**
 * The smoothing window for `n` steps: about n / 50, odd, between 1 and 501
 * (201 steps for a 10,000-step run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smoothingWindow } from "./smoothing.ts";
 * assert.equal(smoothingWindow(10_000), 201);
 * assert.equal(smoothingWindow(20), 1);
 * ```
 */
export function smoothingWindow(n: number): number {
  const w = Math.round(n / 50);
  return Math.min(501, Math.max(1, w % 2 === 0 ? w + 1 : w));
}
