/**
 * A chart axis: its range, ticks and labels from the data (linear or
 * logarithmic, bounds rounded to ticks unless fixed by the caller), and the
 * projection of values onto pixels.
 *
 * @module
 */

import { formatTick, logTicks, niceTicks } from "./ticks.ts";

/** An axis: range, tick values and labels, scale. */
export interface Axis {
  /** Value at the start of the axis. */
  lo: number;
  /** Value at the end of the axis. */
  hi: number;
  /** Tick values, within `[lo, hi]`. */
  ticks: number[];
  /** Logarithmic scale. */
  log: boolean;
  /** The label of each tick. */
  labels: string[];
}

/**
 * A linear axis over `values` (or the fixed bounds) with about `count`
 * intervals; integer steps only when `integer`.
 */
export function linearAxis(
  values: number[],
  count: number,
  integer: boolean,
  fixedMin?: number,
  fixedMax?: number,
): Axis {
  let min = fixedMin ?? Infinity;
  let max = fixedMax ?? -Infinity;
  if (fixedMin === undefined || fixedMax === undefined) {
    for (const v of values) {
      if (fixedMin === undefined && v < min) min = v;
      if (fixedMax === undefined && v > max) max = v;
    }
  }
  if (!Number.isFinite(min) && !Number.isFinite(max)) {
    min = 0;
    max = 1;
  } else if (!Number.isFinite(min)) min = Math.min(0, max);
  else if (!Number.isFinite(max)) max = min + 1;
  if (min > max) [min, max] = [max, min];
  const ticks = niceTicks(min, max, count, { integer });
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  // Given bounds are honoured exactly; ticks outside them are dropped.
  const lo = fixedMin ?? ticks[0];
  const hi = fixedMax ?? ticks[ticks.length - 1];
  const inRange = ticks.filter((t) =>
    t >= lo - step * 1e-9 && t <= hi + step * 1e-9
  );
  return {
    lo,
    hi: hi > lo ? hi : lo + 1,
    ticks: inRange,
    log: false,
    labels: inRange.map((t) => formatTick(t, step)),
  };
}

/** A logarithmic axis over the positive `values` (or the fixed bounds). */
export function logAxis(
  values: number[],
  fixedMin?: number,
  fixedMax?: number,
): Axis {
  let min = fixedMin ?? Infinity;
  let max = fixedMax ?? -Infinity;
  for (const v of values) {
    if (!(v > 0)) continue;
    if (fixedMin === undefined && v < min) min = v;
    if (fixedMax === undefined && v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(min > 0)) {
    min = 1;
    max = 10;
  }
  const ticks = logTicks(min, max);
  const lo = fixedMin ?? ticks[0];
  const hi = fixedMax ?? ticks[ticks.length - 1];
  const inRange = ticks.filter((t) =>
    t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)
  );
  return {
    lo,
    hi: hi > lo ? hi : lo * 10,
    ticks: inRange,
    log: true,
    labels: inRange.map((t) => formatTick(t, t)),
  };
}

/** Where `v` lies on `axis`, mapped onto the pixel range `[r0, r1]`. */
export function project(axis: Axis, v: number, r0: number, r1: number): number {
  const f = axis.log
    ? (Math.log10(v) - Math.log10(axis.lo)) /
      (Math.log10(axis.hi) - Math.log10(axis.lo))
    : (v - axis.lo) / (axis.hi - axis.lo);
  return r0 + f * (r1 - r0);
}
