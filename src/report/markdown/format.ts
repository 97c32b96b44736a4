/**
 * Numbers and counts as the reports write them: locale-independent, so a
 * report is the same bytes on every machine.
 *
 * @module
 */

import type { Distribution, Rate } from "../../verdict/rates.ts";
import type { Verdict } from "../../hypothesis/types.ts";

/**
 * An integer with comma thousands separators (locale-independent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatInt } from "./format.ts";
 * assert.equal(formatInt(265905), "265,905");
 * ```
 */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = Math.abs(Math.round(n)).toString().replace(
    /\B(?=(\d{3})+$)/g,
    ",",
  );
  return (n < 0 ? "-" : "") + s;
}

/**
 * A number in short scientific-friendly form: `3e-6`, `0.001`, `1.5`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNumber } from "./format.ts";
 * assert.equal(formatNumber(3e-6), "3e-6");
 * assert.equal(formatNumber(0.01), "0.01");
 * ```
 */
export function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) {
    return Number(x.toPrecision(6)).toExponential().replace("e+", "e");
  }
  return String(Number(x.toPrecision(6)));
}

/**
 * A duration in milliseconds for people: `850 ms`, `12.3 s`, `4 min 05 s`,
 * `1 h 02 min 03 s`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./format.ts";
 * assert.equal(formatDuration(3_723_400), "1 h 02 min 03 s");
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "unknown";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  // Below 59.95 s the one-decimal form cannot round up to "60.0 s".
  if (ms < 59_950) return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (v: number) => String(v).padStart(2, "0");
  return h > 0 ? `${h} h ${two(m)} min ${two(s)} s` : `${m} min ${two(s)} s`;
}

/** `x` with `digits` decimals; non-finite values as `NaN`, `Infinity`. */
export function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** Small magnitudes (displacements ~1e-5) need exponents to be read. */
export function small(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toFixed(6);
}

/** A count with its noun: `1 run`, `3 runs`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** A quantile: integers as they are, fractions to two decimals. */
export function quantile(x: number): string {
  if (!Number.isFinite(x)) return "—";
  return Number.isInteger(x) ? formatInt(x) : String(Number(x.toFixed(2)));
}

/**
 * A distribution in one cell: `6 (quartiles 4.5–6.25, range 3–8)`; the
 * value alone for one run; `—` for none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { distributionText } from "./format.ts";
 * import { distribution } from "../../verdict/rates.ts";
 * assert.equal(distributionText(distribution([6, 3, 2, 1])), "2.5 (quartiles 1.75–3.75, range 1–6)");
 * ```
 */
export function distributionText(d: Distribution): string {
  if (d.n === 0) return "—";
  if (d.n === 1) return quantile(d.median);
  return `${quantile(d.median)} (quartiles ${quantile(d.q1)}–${
    quantile(d.q3)
  }, range ${quantile(d.min)}–${quantile(d.max)})`;
}

/** Populations of clusters, `—` for none: `31, 20`. */
export function pops(p: readonly number[]): string {
  return p.length === 0 ? "—" : p.join(", ");
}

/**
 * The verdict and, for several runs, the rate: `positive 7/8 (53–98%)`,
 * with ` +1 invalid` when runs diverged; `—` without completed runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shortRate } from "./format.ts";
 * import { wilson } from "../../verdict/rates.ts";
 * assert.equal(shortRate("positive", wilson(7, 8), 1), "positive 7/8 (53–98%) +1 invalid");
 * ```
 */
export function shortRate(verdict: Verdict, r: Rate, invalid = 0): string {
  const extra = invalid > 0 ? ` +${invalid} invalid` : "";
  if (r.n === 0) return `—${extra}`;
  return `${verdict} ${rateFraction(r)}${extra}`;
}

/**
 * `7/8 (53–98%)`: k/n with the 95% Wilson interval in whole percent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateFraction } from "./format.ts";
 * import { wilson } from "../../verdict/rates.ts";
 * assert.equal(rateFraction(wilson(0, 4)), "0/4 (0–49%)");
 * ```
 */
export function rateFraction(r: Rate): string {
  return `${r.k}/${r.n} (${Math.round(r.low * 100)}–${
    Math.round(r.high * 100)
  }%)`;
}
