/**
 * Axis ticks: "nice" linear steps (1, 2 or 5 x 10^k), decades on a
 * logarithmic axis, and tick labels with as many decimals as the step needs.
 *
 * @module
 */

/** Options of {@linkcode niceTicks}. */
export interface NiceTickOptions {
  /** Never use a step below 1 (counts). */
  readonly integer?: boolean;
}

/**
 * Evenly spaced "nice" tick values (step 1, 2 or 5 x 10^k) whose first tick
 * is at or below `min` and whose last is at or above `max`, with about
 * `count` intervals: the step is the smallest nice number >= (max - min) /
 * count. A zero-width range is widened by 10% of its value (1 at zero).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { niceTicks } from "./ticks.ts";
 * assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
 * assert.deepEqual(niceTicks(3, 97, 5), [0, 20, 40, 60, 80, 100]);
 * ```
 */
export function niceTicks(
  min: number,
  max: number,
  count: number,
  options: NiceTickOptions = {},
): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`niceTicks: bad range [${min}, ${max}]`);
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`niceTicks: count must be a positive integer`);
  }
  if (min === max) {
    const pad = options.integer ? 1 : (min === 0 ? 1 : Math.abs(min) * 0.1);
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  let exp = Math.floor(Math.log10(raw));
  const frac = raw / 10 ** exp;
  // A tiny tolerance keeps e.g. raw = 0.2000000001 (from float division) at 2.
  let mant = frac <= 1 + 1e-9
    ? 1
    : frac <= 2 + 1e-9
    ? 2
    : frac <= 5 + 1e-9
    ? 5
    : 10;
  if (mant === 10) {
    mant = 1;
    exp += 1;
  }
  if (options.integer && exp < 0) {
    mant = 1;
    exp = 0;
  }
  const step = mant * 10 ** exp;
  const k0 = Math.floor(min / step + 1e-9);
  const k1 = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) {
    // k * mant is an exact integer; dividing by an exact power of ten gives
    // the double nearest the decimal (0.6, not 0.6000000000000001).
    const v = exp >= 0 ? k * mant * 10 ** exp : (k * mant) / 10 ** -exp;
    ticks.push(v + 0); // + 0 turns -0 into 0
  }
  return ticks;
}

/**
 * Tick values for a logarithmic axis over positive `[min, max]`: the powers
 * of ten around the range, with the 2 and 5 multiples added when fewer than
 * three decades are spanned; trimmed to the last tick at or below `min` and
 * the first at or above `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logTicks } from "./ticks.ts";
 * assert.deepEqual(logTicks(0.002, 30), [0.001, 0.01, 0.1, 1, 10, 100]);
 * assert.deepEqual(logTicks(1.5, 4.8), [1, 2, 5]);
 * ```
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`logTicks: bad positive range [${min}, ${max}]`);
  }
  const e0 = Math.floor(Math.log10(min) + 1e-9);
  let e1 = Math.ceil(Math.log10(max) - 1e-9);
  if (e1 === e0) e1 = e0 + 1;
  const decade = (e: number) => e >= 0 ? 10 ** e : 1 / 10 ** -e;
  const mults = e1 - e0 >= 3 ? [1] : [1, 2, 5];
  const all: number[] = [];
  for (let e = e0; e <= e1; e++) {
    for (const m of mults) {
      if (e === e1 && m > 1) break;
      all.push(e >= 0 ? m * decade(e) : m / 10 ** -e);
    }
  }
  let lo = 0;
  while (lo + 1 < all.length && all[lo + 1] <= min * (1 + 1e-12)) lo++;
  let hi = all.length - 1;
  while (hi - 1 >= 0 && all[hi - 1] >= max * (1 - 1e-12)) hi--;
  return all.slice(lo, hi + 1);
}

/**
 * Formats a tick value with as many decimals as the tick step needs,
 * thousands separated by commas; exponent notation for very small or very
 * large steps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTick } from "./ticks.ts";
 * assert.equal(formatTick(10000, 2000), "10,000");
 * assert.equal(formatTick(0.6, 0.2), "0.6");
 * assert.equal(formatTick(0.000004, 0.000002), "4e-6");
 * ```
 */
export function formatTick(value: number, step: number): string {
  if (value === 0) return "0";
  const s = Math.abs(step);
  if (s > 0 && (s < 1e-3 || s >= 1e7)) {
    // "4e-6", "1.5e+7" -> "1.5e7"
    return Number(value.toPrecision(6)).toExponential().replace("e+", "e");
  }
  // As many decimals as the step has: 0.2 -> 1, 0.25 -> 2, 2000 -> 0.
  let decimals = 0;
  while (
    decimals < 20 &&
    Math.abs(Math.round(s * 10 ** decimals) - s * 10 ** decimals) >
      1e-9 * s * 10 ** decimals
  ) decimals++;
  const fixed = Math.abs(value).toFixed(decimals);
  const [int, dec] = fixed.split(".");
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, ",");
  return (value < 0 ? "-" : "") + grouped + (dec ? "." + dec : "");
}
