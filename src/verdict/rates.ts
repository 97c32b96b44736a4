/**
 * Claims as rates over seeds: how many runs reached a verdict, with a 95%
 * Wilson score interval, and the distribution of C and P. Diverged runs are
 * counted apart: they earned no verdict, so they are neither successes nor
 * failures of a rate.
 *
 * @module
 */

import {
  isComplete,
  type RunRecord,
  type Verdict,
} from "../hypothesis/types.ts";

/** A proportion k/n with its 95% Wilson score interval. */
export interface Rate {
  readonly k: number;
  readonly n: number;
  /** k / n (NaN when n = 0). */
  readonly share: number;
  /** Lower and upper bound of the 95% Wilson interval ([0, 1] when n = 0). */
  readonly low: number;
  readonly high: number;
}

/** z of a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * k successes in n trials, with the Wilson score interval (which, unlike the
 * normal approximation, stays inside [0, 1] and is sensible at k = 0 or n).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wilson } from "./rates.ts";
 * const r = wilson(8, 8);
 * assert.equal(r.share, 1);
 * assert.ok(Math.abs(r.low - 0.6756) < 1e-4 && r.high === 1);
 * ```
 */
export function wilson(k: number, n: number, z = Z95): Rate {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || k > n) {
    throw new RangeError(`wilson needs integers 0 <= k <= n, got ${k}/${n}`);
  }
  if (n === 0) return { k, n, share: NaN, low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) *
    Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  // Clamp rounding at the ends (k = 0 gives exactly 0, k = n exactly 1).
  return {
    k,
    n,
    share: p,
    low: k === 0 ? 0 : Math.max(0, centre - half),
    high: k === n ? 1 : Math.min(1, centre + half),
  };
}

/** Median, quartiles and range of a list of numbers. */
export interface Distribution {
  readonly n: number;
  readonly min: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly max: number;
}

/**
 * Five-number summary; quartiles by linear interpolation between order
 * statistics (type 7, the default of R and numpy). NaN fields when empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { distribution } from "./rates.ts";
 * assert.deepEqual(distribution([6, 3, 2, 1]), {
 *   n: 4, min: 1, q1: 1.75, median: 2.5, q3: 3.75, max: 6,
 * });
 * ```
 */
export function distribution(values: readonly number[]): Distribution {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) {
    return { n, min: NaN, q1: NaN, median: NaN, q3: NaN, max: NaN };
  }
  const q = (p: number) => {
    const h = (n - 1) * p;
    const lo = Math.floor(h);
    return s[lo] + (h - lo) * ((s[Math.min(lo + 1, n - 1)] ?? s[lo]) - s[lo]);
  };
  return {
    n,
    min: s[0],
    q1: q(0.25),
    median: q(0.5),
    q3: q(0.75),
    max: s[n - 1],
  };
}

/** What a set of runs (one sweep point, or all replicates) says. */
export interface RunSummary {
  /** Runs, diverged ones included. */
  readonly runs: number;
  /** Runs that diverged (no verdict). */
  readonly invalid: number;
  /** Completed runs reaching `verdict`, out of completed runs. */
  readonly rate: Rate;
  /** The verdict `rate` counts. */
  readonly verdict: Verdict;
  /** C and P over the completed runs. */
  readonly C: Distribution;
  readonly P: Distribution;
  /** Seeds of the runs, ascending. */
  readonly seeds: readonly number[];
}

/**
 * Summarises runs: the rate of `verdict` among completed runs with its
 * Wilson interval, and the C/P distributions.
 */
export function summarize(
  runs: readonly RunRecord[],
  verdict: Verdict,
): RunSummary {
  const complete = runs.filter(isComplete);
  return {
    runs: runs.length,
    invalid: runs.length - complete.length,
    rate: wilson(
      complete.filter((r) => r.verdict === verdict).length,
      complete.length,
    ),
    verdict,
    C: distribution(complete.map((r) => r.final.C)),
    P: distribution(complete.map((r) => r.final.P)),
    seeds: runs.map((r) => r.seed).sort((a, b) => a - b),
  };
}

/**
 * One line: `positive in 7/8 seeds (88%, 95% CI 53-98%)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateText, wilson } from "./rates.ts";
 * assert.equal(rateText("positive", wilson(7, 8)), "positive in 7/8 seeds (88%, 95% CI 53–98%)");
 * ```
 */
export function rateText(verdict: Verdict, r: Rate): string {
  if (r.n === 0) return `no completed runs`;
  const pct = (x: number) => `${Math.round(x * 100)}`;
  return `${verdict} in ${r.k}/${r.n} seeds (${pct(r.share)}%, 95% CI ${
    pct(r.low)
  }–${pct(r.high)}%)`;
}
