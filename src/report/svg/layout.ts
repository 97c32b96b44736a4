/**
 * A chart laid out before it is drawn: series checked, downsampled and
 * coloured, the axes fitted to what will be drawn, and the left margin the
 * y labels need.
 *
 * @module
 */

import { type Axis, linearAxis, logAxis } from "./axis.ts";
import type { Interval, LineChartOptions } from "./chart_options.ts";
import { downsampleIndices } from "./downsample.ts";
import { PALETTE, textWidth } from "./style.ts";

/** Left margin in px that fits the widest y tick label. */
export function marginLeftFor(yAxis: Axis): number {
  const widest = Math.max(0, ...yAxis.labels.map((l) => textWidth(l, 11)));
  return Math.ceil(widest + 40);
}

/** The series and axes of a chart, ready to draw. */
export type PreparedChart = ReturnType<typeof prepare>;

/**
 * Checks and downsamples the series, gives each its colour, and fits the
 * axes to the points that can be drawn (a stepped chart keeps its counts
 * off the frame).
 */
export function prepare(o: LineChartOptions) {
  const maxPoints = o.maxPoints ?? 1000;
  const series = o.series.map((s, i) => {
    const fail = (what: string, n: number) => {
      throw new RangeError(
        `series ${
          JSON.stringify(s.name)
        }: x has ${s.x.length} values, ${what} has ${n}`,
      );
    };
    if (s.x.length !== s.y.length) fail("y", s.y.length);
    for (const [what, iv] of [["errorBars", s.errorBars], ["band", s.band]]) {
      const v = iv as Interval | undefined;
      if (v && v.low.length !== s.x.length) fail(`${what}.low`, v.low.length);
      if (v && v.high.length !== s.x.length) {
        fail(`${what}.high`, v.high.length);
      }
    }
    const keep = downsampleIndices(s.y, maxPoints);
    const pick = (v: readonly number[]) => keep.map((k) => v[k]);
    const pickInterval = (v: Interval | undefined) =>
      v ? { low: pick(v.low), high: pick(v.high) } : undefined;
    return {
      ...s,
      x: pick(s.x),
      y: pick(s.y),
      errorBars: pickInterval(s.errorBars),
      band: pickInterval(s.band),
      color: s.color ?? PALETTE[i % PALETTE.length],
    };
  });
  const xs: number[] = [];
  const ys: number[] = [];
  const usableY = (v: number) => Number.isFinite(v) && (!o.logY || v > 0);
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.x[i]) || (o.logX && !(s.x[i] > 0))) continue;
      const own = [s.y[i]];
      for (const iv of [s.errorBars, s.band]) {
        if (iv) own.push(iv.low[i], iv.high[i]);
      }
      const usable = own.filter(usableY);
      if (usable.length === 0) continue;
      xs.push(s.x[i]);
      ys.push(...usable);
    }
  }
  let xAxis: Axis;
  if (o.xTicks && o.xTicks.length > 0) {
    const values = o.xTicks.map((t) => t.value);
    const lo = o.xMin ?? Math.min(...values);
    let hi = o.xMax ?? Math.max(...values);
    if (!(hi > lo)) hi = o.logX ? lo * 10 : lo + 1;
    const shown = o.xTicks.filter((t) =>
      t.value >= lo && t.value <= hi && (!o.logX || t.value > 0)
    );
    xAxis = {
      lo,
      hi,
      ticks: shown.map((t) => t.value),
      log: o.logX ?? false,
      labels: shown.map((t) => t.label),
    };
  } else {
    xAxis = o.logX
      ? logAxis(xs, o.xMin, o.xMax)
      : linearAxis(xs, 5, false, o.xMin, o.xMax);
  }
  let yAxis = o.logY
    ? logAxis(ys, o.yMin, o.yMax)
    : linearAxis(ys, 5, o.stepped ?? false, o.yMin, o.yMax);
  if (o.stepped && !o.logY && ys.length > 0) {
    // A count on the top or bottom tick would be drawn on the frame and hide
    // there: widen the axis by one count on that side (not below zero, and
    // never past a bound the caller fixed).
    let lo = Infinity, hi = -Infinity;
    for (const v of ys) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const extra: number[] = [];
    if (o.yMax === undefined && hi >= yAxis.hi) extra.push(hi + 1);
    if (o.yMin === undefined && lo <= yAxis.lo && lo > 0) extra.push(lo - 1);
    if (extra.length > 0) {
      yAxis = linearAxis([...ys, ...extra], 5, true, o.yMin, o.yMax);
    }
  }
  return { series, xAxis, yAxis, hasData: xs.length > 0 };
}
