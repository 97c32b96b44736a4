/**
 * The three plots of a hypothesis report: training loss, C and P over the
 * recorded steps, and the embedding centroid's norm.
 *
 * With several runs (replicate seeds) each plot has one line per seed; the
 * raw per-step loss is drawn only for the primary run, since ten thousand
 * noisy points per seed would hide each other.
 *
 * @module
 */

import type { Hypothesis, RunRecord } from "../experiment/types.ts";
import { primaryRun } from "./markdown.ts";
import { lineChart, type Series, stackedCharts } from "./svg.ts";

/** SVG documents of one report. */
export interface RunPlots {
  readonly loss: string;
  readonly cp: string;
  readonly centroid: string;
}

/**
 * Centered moving average: each output is the mean of the finite inputs
 * within `window` (odd) positions around it, the window shrinking at the
 * ends. A non-finite input stays non-finite in the output, so divergence
 * shows as a gap rather than being averaged away.
 *
 * @example
 * ```ts
 * import { movingAverage } from "./plots.ts";
 * movingAverage([1, 2, 3, 4, 5], 3); // [1.5, 2, 3, 4, 4.5]
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
 * import { smoothingWindow } from "./plots.ts";
 * smoothingWindow(10_000); // 201
 * smoothingWindow(20); // 1
 * ```
 */
export function smoothingWindow(n: number): number {
  const w = Math.round(n / 50);
  return Math.min(501, Math.max(1, w % 2 === 0 ? w + 1 : w));
}

const RAW = "#0072B2";
const SMOOTH = "#D55E00";
const REFERENCE = "#6b7280";

/** Seeds in a fixed order: the primary first, then ascending. */
function ordered(h: Hypothesis, runs: readonly RunRecord[]): RunRecord[] {
  const primary = primaryRun(h, runs);
  const rest = runs.filter((r) => r !== primary).sort((a, b) =>
    a.seed - b.seed
  );
  return primary ? [primary, ...rest] : [];
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

/**
 * The loss, C/P and centroid-norm plots of a hypothesis's runs, as SVG
 * documents (deterministic: same records, same bytes).
 *
 * @example
 * ```ts ignore
 * const { loss, cp, centroid } = plotsForRun(h, [run]);
 * await Deno.writeTextFile("reports/h-loss.svg", loss);
 * ```
 */
export function plotsForRun(
  h: Hypothesis,
  runs: readonly RunRecord[],
): RunPlots {
  const rs = ordered(h, runs);
  return {
    loss: lossChart(h, rs),
    cp: cpChart(h, rs),
    centroid: centroidChart(h, rs),
  };
}
