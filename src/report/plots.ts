/**
 * The plots of a hypothesis report: training loss, C and P over the
 * recorded steps, and the embedding centroid's norm, of the runs at the
 * hypothesis's own config; with a sweep, the phase diagram (share positive,
 * and C and P, against the swept value); with several completed replicates,
 * the envelope of C and P over training.
 *
 * With several runs (replicate seeds) the loss, C/P and centroid plots have
 * one line per seed; the raw per-step loss is drawn only for the primary
 * run, since ten thousand noisy points per seed would hide each other.
 *
 * @module
 */

import { type Outcome, outcomeOf } from "../verdict/claims.ts";
import type { PointOutcome } from "../verdict/points.ts";
import {
  type Hypothesis,
  isComplete,
  type RunRecord,
} from "../hypothesis/types.ts";
import { changesOnly, envelopeOf } from "./envelope.ts";
import { movingAverage, smoothingWindow } from "./smoothing.ts";
import {
  formatTick,
  lineChart,
  type LineChartOptions,
  type Series,
  stackedCharts,
  type Tick,
} from "./svg/mod.ts";

/** SVG documents of one report. */
export interface RunPlots {
  /** The training loss (raw and smoothed). */
  readonly loss: string;
  /** P above C over the recorded steps. */
  readonly cp: string;
  /** The embedding centroid's norm over the recorded steps. */
  readonly centroid: string;
  /** The phase diagram; only for a hypothesis with a sweep. */
  readonly phase?: string;
  /** C and P across replicates; only with >= 2 completed runs at its own config. */
  readonly envelope?: string;
}

const RAW = "#0072B2";
const SMOOTH = "#D55E00";
const REFERENCE = "#6b7280";

/**
 * The runs at the hypothesis's own config in a fixed order: the primary
 * first, then by seed. Without any there, the primary run alone (a sweep
 * that never ran its own config).
 */
function ordered(o: Outcome): RunRecord[] {
  const primary = o.primary;
  if (!primary) return [];
  const rest = o.primaryPoint.runs.filter((r) => r !== primary).sort((a, b) =>
    a.seed - b.seed
  );
  return [primary, ...rest];
}

function steps(n: number): number[] {
  // loss[i] is the loss of optimizer step i + 1.
  return Array.from({ length: n }, (_, i) => i + 1);
}

function lossChart(h: Hypothesis, runs: RunRecord[]): string {
  const series: Series[] = [];
  const many = runs.length > 1;
  const smooth = runs.length > 0 && smoothingWindow(runs[0].loss.length) > 1;
  if (runs.length > 0 && (smooth || !many)) {
    const p = runs[0];
    series.push({
      name: many ? `loss, seed ${p.seed}` : "loss",
      x: steps(p.loss.length),
      y: p.loss,
      color: RAW,
      // Faint under its moving average; solid when it is the only line.
      ...(smooth ? { opacity: 0.35, strokeWidth: 1 } : {}),
    });
  }
  runs.forEach((r, i) => {
    const w = smoothingWindow(r.loss.length);
    // The primary's average keeps the contrasting colour; other seeds take
    // palette colours by position.
    const color = i === 0 ? { color: w > 1 ? SMOOTH : RAW } : {};
    if (w > 1) {
      series.push({
        name: many
          ? `seed ${r.seed}, ${w}-step average`
          : `moving average (${w} steps)`,
        x: steps(r.loss.length),
        y: movingAverage(r.loss, w),
        ...color,
        strokeWidth: 2,
      });
    } else if (many) {
      // Too short to smooth: each seed's raw loss, one line each.
      series.push({
        name: `loss, seed ${r.seed}`,
        x: steps(r.loss.length),
        y: r.loss,
        ...color,
      });
    }
  });
  return lineChart({
    title: `${h.id}: training loss`,
    xLabel: "optimizer step",
    yLabel: "cross-entropy loss",
    series,
  });
}

function trajectorySeries(
  runs: RunRecord[],
  pick: (r: RunRecord) => readonly number[],
  name: string,
): Series[] {
  return runs.map((r) => ({
    name: runs.length > 1 ? `${name}, seed ${r.seed}` : name,
    x: r.trajectory.step,
    y: pick(r),
  }));
}

function cpChart(h: Hypothesis, runs: RunRecord[]): string {
  const pSeries = trajectorySeries(runs, (r) => r.trajectory.P, "P");
  const p = runs[0];
  if (p && p.trajectory.step.length > 0) {
    // P below the dead-token count means a dead token escaped its black hole.
    const s = p.trajectory.step;
    const dead = p.corpus.deadTokens.length;
    pSeries.push({
      name: `dead tokens (${dead})`,
      x: [s[0], s[s.length - 1]],
      y: [dead, dead],
      color: REFERENCE,
      strokeWidth: 1.5,
      dashed: true,
    });
  }
  return stackedCharts(`${h.id}: C and P over training`, [
    {
      title: `${h.id}: P, tokens in black holes`,
      xLabel: "step",
      yLabel: "P",
      stepped: true,
      // No zero baseline: a single token escaping (51 -> 50) must be visible.
      height: 300,
      series: pSeries,
    },
    {
      title: `${h.id}: C, black holes (vectors shared by ≥ 2 tokens)`,
      xLabel: "step",
      yLabel: "C",
      stepped: true,
      yMin: 0,
      height: 300,
      series: trajectorySeries(runs, (r) => r.trajectory.C, "C"),
    },
  ]);
}

function centroidChart(h: Hypothesis, runs: RunRecord[]): string {
  return lineChart({
    title: `${h.id}: norm of the token-embedding centroid`,
    xLabel: "step",
    yLabel: "‖mean embedding row‖",
    series: trajectorySeries(
      runs,
      (r) => r.trajectory.centroidNorm,
      "centroid norm",
    ),
  });
}

function envelopeChart(h: Hypothesis, runs: readonly RunRecord[]): string {
  const done = runs.filter(isComplete);
  const panel = (
    name: "C" | "P",
    pick: (r: RunRecord) => readonly number[],
  ): LineChartOptions => {
    const e = changesOnly(envelopeOf(done, pick));
    const series: Series[] = [{
      name: `${name}: median, min–max band (${done.length} runs)`,
      x: e.step,
      y: e.median,
      band: { low: e.min, high: e.max },
      color: name === "P" ? "#0072B2" : "#D55E00",
      strokeWidth: 2,
    }];
    if (name === "P" && e.step.length > 0) {
      const dead = done[0].corpus.deadTokens.length;
      series.push({
        name: `dead tokens (${dead})`,
        x: [e.step[0], e.step[e.step.length - 1]],
        y: [dead, dead],
        color: REFERENCE,
        strokeWidth: 1.5,
        dashed: true,
      });
    }
    return {
      title: `${h.id}: ${name} across seeds (median line, min–max band)`,
      xLabel: "step",
      yLabel: name,
      stepped: true,
      height: 300,
      ...(name === "C" ? { yMin: 0 } : {}),
      series,
    };
  };
  return stackedCharts(`${h.id}: C and P across ${done.length} seeds`, [
    panel("P", (r) => r.trajectory.P),
    panel("C", (r) => r.trajectory.C),
  ]);
}

/** How the phase diagram places the first axis's values along x. */
interface PhaseAxis {
  readonly log: boolean;
  readonly x: (v: unknown) => number;
  readonly ticks?: readonly Tick[];
  readonly min: number;
  readonly max: number;
}

function phaseAxis(values: readonly unknown[]): PhaseAxis {
  const numeric = values.every((v) => typeof v === "number");
  if (numeric && values.length > 0) {
    const xs = values as number[];
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    if (lo > 0) {
      // Log axis, widened by 5% of the span (a factor of 2 for one value),
      // so the end points do not sit on the frame.
      const f = hi > lo ? (hi / lo) ** 0.05 : 2;
      return { log: true, x: (v) => v as number, min: lo / f, max: hi * f };
    }
    const pad = hi > lo ? (hi - lo) * 0.05 : Math.abs(lo) * 0.1 || 1;
    return {
      log: false,
      x: (v) => v as number,
      min: lo - pad,
      max: hi + pad,
    };
  }
  // Categories (words, booleans) at 0, 1, 2, ... in sweep order.
  const labels = [...new Set(values.map((v) => String(v)))];
  return {
    log: false,
    x: (v) => labels.indexOf(String(v)),
    ticks: labels.map((label, value) => ({ value, label })),
    min: -0.5,
    max: labels.length - 0.5,
  };
}

/** The sweep points on one line of the phase diagram, in x order. */
interface PhaseLine {
  /** The values of the other sweep axes ("" without them). */
  readonly key: string;
  readonly points: readonly PointOutcome[];
}

/** The other axes' values of a point, as `path=value, ...`. */
function otherAxesKey(p: PointOutcome, firstPath: string): string {
  return p.overrides.filter((x) => x.path !== firstPath).map((x) =>
    `${x.path}=${
      typeof x.value === "number"
        ? formatTick(x.value, x.value)
        : String(x.value)
    }`
  ).join(", ");
}

/**
 * One line per combination of the other axes (one line without them), in
 * order of first appearance, each sorted along x.
 */
function phaseLines(
  points: readonly PointOutcome[],
  firstPath: string,
  xOf: (p: PointOutcome) => number,
): PhaseLine[] {
  const groups = new Map<string, PointOutcome[]>();
  for (const p of points) {
    const k = otherAxesKey(p, firstPath);
    const list = groups.get(k);
    if (list) list.push(p);
    else groups.set(k, [p]);
  }
  return [...groups].map(([key, ps]) => ({
    key,
    points: [...ps].sort((a, b) => xOf(a) - xOf(b)),
  }));
}

/** The share of positive runs at each point, with its Wilson interval. */
function shareSeries(
  lines: readonly PhaseLine[],
  xOf: (p: PointOutcome) => number,
): Series[] {
  const many = lines.length > 1;
  return lines.map(({ key, points: ps }) => ({
    name: many ? key : "share positive",
    x: ps.map(xOf),
    y: ps.map((p) => p.summary.rate.n ? p.summary.rate.share : NaN),
    errorBars: {
      low: ps.map((p) => p.summary.rate.n ? p.summary.rate.low : NaN),
      high: ps.map((p) => p.summary.rate.n ? p.summary.rate.high : NaN),
    },
    markers: true,
  }));
}

/** The median and range of C or P at the end, at each point. */
function countSeries(
  name: "C" | "P",
  lines: readonly PhaseLine[],
  xOf: (p: PointOutcome) => number,
): Series[] {
  const many = lines.length > 1;
  return lines.map(({ key, points: ps }) => {
    const d = ps.map((p) => name === "C" ? p.summary.C : p.summary.P);
    return {
      name: many ? key : `${name}: median, range`,
      x: ps.map(xOf),
      y: d.map((x) => x.median),
      errorBars: { low: d.map((x) => x.min), high: d.map((x) => x.max) },
      markers: true,
    };
  });
}

/**
 * The top of a C or P panel: a count on the top tick would hide in the
 * frame, so leave headroom above the largest.
 */
function countTop(points: readonly PointOutcome[], name: "C" | "P"): number {
  let max = 0;
  for (const p of points) {
    const m = (name === "C" ? p.summary.C : p.summary.P).max;
    if (m > max) max = m;
  }
  return max + Math.max(1, Math.ceil(max * 0.05));
}

function phaseChart(h: Hypothesis, o: Outcome): string {
  const axes = h.sweep ?? [];
  const first = axes[0];
  const points = o.points.filter((p) => p.inSweep);
  const axis = phaseAxis(first.values);
  const xOf = (p: PointOutcome) =>
    axis.x(p.overrides.find((x) => x.path === first.path)?.value);
  const lines = phaseLines(points, first.path, xOf);
  const common = {
    xLabel: first.path +
      (axes.length > 1
        ? ` (first of ${axes.length} sweep axes; the others as separate lines)`
        : ""),
    yMin: 0,
    logX: axis.log,
    xMin: axis.min,
    xMax: axis.max,
    ...(axis.ticks ? { xTicks: axis.ticks } : {}),
  };
  const runs = points.reduce((n, p) => n + p.summary.runs, 0);
  return stackedCharts(
    `${h.id}: phase diagram over ${first.path} (${points.length} points, ${runs} runs)`,
    [
      {
        ...common,
        title: `${h.id}: share positive (95% Wilson interval)`,
        yLabel: "share positive",
        yMax: 1,
        height: 300,
        series: shareSeries(lines, xOf),
      },
      ...(["P", "C"] as const).map((name) => ({
        ...common,
        title: `${h.id}: ${name} at the end, median and range over seeds`,
        yLabel: name,
        yMax: countTop(points, name),
        height: 280,
        series: countSeries(name, lines, xOf),
      })),
    ],
  );
}

/**
 * The plots of a hypothesis's runs, as SVG documents (deterministic: same
 * records, same bytes): loss, C/P and centroid norm of the runs at its own
 * config; the phase diagram when it has a sweep; the envelope of C and P
 * when at least two runs at its own config completed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeHypothesis, makeRun } from "../testing/records.ts";
 * import { plotsForRun } from "./plots.ts";
 * const plots = plotsForRun(makeHypothesis(), [makeRun()]);
 * assert.ok(plots.loss.startsWith("<svg "));
 * // One run and no sweep: no envelope, no phase diagram.
 * assert.deepEqual(Object.keys(plots), ["loss", "cp", "centroid"]);
 * ```
 */
export function plotsForRun(
  h: Hypothesis,
  runs: readonly RunRecord[],
): RunPlots {
  const o = outcomeOf(h, runs);
  const rs = ordered(o);
  const completedHere = o.primaryPoint.runs.filter(isComplete);
  return {
    loss: lossChart(h, rs),
    cp: cpChart(h, rs),
    centroid: centroidChart(h, rs),
    ...(h.sweep?.length ? { phase: phaseChart(h, o) } : {}),
    ...(completedHere.length >= 2
      ? { envelope: envelopeChart(h, completedHere) }
      : {}),
  };
}
