/**
 * The reports index's plot: for every hypothesis, the share of its seeds
 * that reached the predicted verdict, with the 95% Wilson interval, beside
 * the share its expectation asked for. One look shows which predictions
 * hold, which fail, and which rest on too few seeds to tell.
 *
 * @module
 */

import { outcomeOf } from "../verdict/claims.ts";
import type { Verdict } from "../hypothesis/types.ts";
import type { IndexRow } from "./markdown/mod.ts";
import { lineChart, type Tick } from "./svg/mod.ts";

/** The title's first words, by which `report` knows the file is its own. */
export const RATES_PLOT_TITLE_PREFIX = "Reports: ";

/** One hypothesis on the plot. */
export interface RatePoint {
  /** Its id. */
  readonly id: string;
  /** The axis label: the id up to its first `-` (`11.2b`, `control`). */
  readonly label: string;
  /** The verdict counted (the predicted one). */
  readonly verdict: Verdict;
  /** Completed runs at the hypothesis's own config, and how many reached it. */
  readonly n: number;
  readonly k: number;
  /** k / n and its 95% Wilson interval. */
  readonly share: number;
  readonly low: number;
  readonly high: number;
  /** The share the expectation asks for (null: it predicts no rate). */
  readonly predicted: number | null;
}

/**
 * The rate of each hypothesis with completed runs, in the index's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeHypothesis, makeReplicate } from "../testing/records.ts";
 * import { ratePoints } from "./rates_plot.ts";
 * const h = makeHypothesis({ replicates: { count: 2 } });
 * const runs = [makeReplicate(42, { C: 2, P: 4 }), makeReplicate(1, { C: 1, P: 4 })];
 * const [p] = ratePoints([{ hypothesis: h, runs, file: "h.md" }]);
 * assert.deepEqual([p.label, p.k, p.n, p.share], ["11.2b", 1, 2, 0.5]);
 * ```
 */
export function ratePoints(rows: readonly IndexRow[]): RatePoint[] {
  const points: RatePoint[] = [];
  for (const { hypothesis: h, runs } of rows) {
    const o = outcomeOf(h, runs);
    const r = o.claim.rate;
    if (r.n === 0) continue;
    points.push({
      id: h.id,
      label: h.id.split("-")[0],
      verdict: o.claimVerdict,
      n: r.n,
      k: r.k,
      share: r.share,
      low: r.low,
      high: r.high,
      predicted: h.expectation.rate?.atLeast ?? null,
    });
  }
  return points;
}

/**
 * The index's plot as an SVG document; undefined when no hypothesis has a
 * completed run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeHypothesis, makeRun } from "../testing/records.ts";
 * import { ratesPlot } from "./rates_plot.ts";
 * const svg = ratesPlot([{ hypothesis: makeHypothesis(), runs: [makeRun()], file: "h.md" }]);
 * assert.ok(svg?.includes("<title>Reports: "));
 * assert.equal(ratesPlot([]), undefined);
 * ```
 */
export function ratesPlot(rows: readonly IndexRow[]): string | undefined {
  const points = ratePoints(rows);
  if (points.length === 0) return undefined;
  const x = points.map((_, i) => i);
  const xTicks: Tick[] = points.map((p, i) => ({ value: i, label: p.label }));
  return lineChart({
    title:
      `${RATES_PLOT_TITLE_PREFIX}share of seeds reaching the predicted verdict`,
    xLabel: "hypothesis",
    yLabel: "share of seeds",
    width: Math.max(480, 60 * points.length + 160),
    xMin: -0.5,
    xMax: points.length - 0.5,
    xTicks,
    yMin: 0,
    yMax: 1,
    series: [
      {
        name: "observed, with its 95% Wilson interval",
        x,
        y: points.map((p) => p.share),
        errorBars: {
          low: points.map((p) => p.low),
          high: points.map((p) => p.high),
        },
        markers: true,
        line: false,
      },
      {
        // Beside the observed share, not on it: where they are equal both
        // stay visible.
        name: "predicted: at least",
        x: x.map((i) => i + 0.2),
        y: points.map((p) => p.predicted ?? NaN),
        color: "#6b7280",
        markers: true,
        line: false,
      },
    ],
  });
}
