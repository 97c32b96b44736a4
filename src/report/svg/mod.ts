/**
 * Dependency-free SVG line charts for the reports: lines, optionally with
 * dots, interval bars (a confidence interval or a range at each point) and a
 * filled band (an envelope of several runs), on linear or logarithmic axes.
 *
 * Charts are plain strings, byte-identical for identical input: coordinates
 * are rounded to 2 decimals (the lines and bands to 0.1 px, written as
 * relative moves), element ids are derived from the content, and nothing
 * reads the clock or the locale. Every chart paints an explicit white
 * background, so it stays readable when a Markdown viewer uses a dark theme.
 *
 * Long series (a loss per step over 10,000 steps) are reduced to at most
 * about 1,000 points by keeping the minimum and maximum of each bucket, so
 * loss spikes survive the reduction; a line then leaves out the points it
 * passes within 0.1 px of anyway (a moving average keeps a few per bend).
 * A plot of a raw loss and eight averages takes about 20 KB.
 *
 * - `chart.ts`: {@linkcode lineChart}, {@linkcode stackedCharts};
 * - `chart_options.ts`: what a chart is drawn from;
 * - `layout.ts`, `axis.ts`, `ticks.ts`, `downsample.ts`: fitting series
 *   and axes;
 * - `panel.ts`, `xml.ts`, `style.ts`: the SVG elements, strings and look;
 * - `simplify.ts`, `path.ts`: lines with only the points that show, as
 *   compact path data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineChart } from "./mod.ts";
 * const svg = lineChart({
 *   title: "Loss",
 *   xLabel: "step",
 *   yLabel: "loss",
 *   series: [{ name: "loss", x: [1, 2, 3], y: [4.8, 3.1, 2.5] }],
 * });
 * assert.equal(svg, lineChart({
 *   title: "Loss",
 *   xLabel: "step",
 *   yLabel: "loss",
 *   series: [{ name: "loss", x: [1, 2, 3], y: [4.8, 3.1, 2.5] }],
 * }));
 * ```
 *
 * @module
 */

export { lineChart, stackedCharts } from "./chart.ts";
export type {
  Interval,
  LineChartOptions,
  Series,
  Tick,
} from "./chart_options.ts";
export {
  formatTick,
  logTicks,
  type NiceTickOptions,
  niceTicks,
} from "./ticks.ts";
export { downsampleMinMax } from "./downsample.ts";
export { escapeXml } from "./xml.ts";
