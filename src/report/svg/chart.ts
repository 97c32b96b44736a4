/**
 * Dependency-free SVG line charts for the reports: lines, optionally with
 * dots, interval bars (a confidence interval or a range at each point) and a
 * filled band (an envelope of several runs), on linear or logarithmic axes;
 * one chart, or several stacked with aligned plot areas.
 *
 * @module
 */

import type { LineChartOptions } from "./chart_options.ts";
import { marginLeftFor, prepare } from "./layout.ts";
import { renderPanel } from "./panel.ts";
import { fnv1a, num, svgDocument } from "./xml.ts";

function idOf(o: LineChartOptions, index: number): string {
  return `c${
    fnv1a(o.title + "\u0000" + o.series.map((s) => s.name).join("\u0000"))
  }-${index}`;
}

/**
 * Renders a line chart as a standalone SVG document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineChart } from "./chart.ts";
 * const svg = lineChart({
 *   title: "Loss",
 *   xLabel: "step",
 *   yLabel: "loss",
 *   series: [{ name: "loss", x: [1, 2, 3], y: [4.8, 3.1, 2.5] }],
 * });
 * assert.ok(svg.startsWith("<svg"));
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  const prepared = prepare(options);
  const panel = renderPanel(
    options,
    prepared,
    marginLeftFor(prepared.yAxis),
    idOf(options, 0),
  );
  return svgDocument(
    panel.width,
    panel.height,
    options.title,
    panel.body.join("\n"),
  );
}

/**
 * Renders several charts stacked vertically in one SVG document, with their
 * plot areas aligned (e.g. P above C, which live on different scales).
 * Every panel takes the width of the first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stackedCharts } from "./chart.ts";
 * const svg = stackedCharts("C and P", [
 *   { title: "P", xLabel: "step", yLabel: "P", stepped: true, series: [{ name: "P", x: [0, 10], y: [51, 50] }] },
 *   { title: "C", xLabel: "step", yLabel: "C", stepped: true, series: [{ name: "C", x: [0, 10], y: [1, 2] }] },
 * ]);
 * assert.ok(svg.includes("translate(0 340)")); // the second panel
 * ```
 */
export function stackedCharts(
  title: string,
  charts: readonly LineChartOptions[],
): string {
  if (charts.length === 0) throw new RangeError("stackedCharts: no charts");
  const width = charts[0].width ?? 720;
  const prepared = charts.map((c) => prepare(c));
  const marginLeft = Math.max(...prepared.map((p) => marginLeftFor(p.yAxis)));
  const parts: string[] = [];
  let y = 0;
  charts.forEach((c, i) => {
    const panel = renderPanel(
      { ...c, width },
      prepared[i],
      marginLeft,
      idOf(c, i),
    );
    parts.push(
      `<g transform="translate(0 ${num(y)})">\n${panel.body.join("\n")}\n</g>`,
    );
    y += panel.height;
  });
  return svgDocument(width, y, title, parts.join("\n"));
}
