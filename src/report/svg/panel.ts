/**
 * Drawing one chart panel as SVG elements: title, legend, grid, tick
 * labels, then the bands, lines, interval bars and dots, clipped to the
 * plot area.
 *
 * @module
 */

import { project } from "./axis.ts";
import type { Interval, LineChartOptions } from "./chart_options.ts";
import type { PreparedChart } from "./layout.ts";
import { FRAME, GRID, MUTED, TEXT, textWidth } from "./style.ts";
import { escapeXml, num } from "./xml.ts";

/** A chart's geometry and its SVG elements, before the outer `<svg>`. */
export interface Panel {
  /** Width in px. */
  width: number;
  /** Height in px. */
  height: number;
  /** The SVG elements, one per line. */
  body: string[];
}

/**
 * The elements of one panel, `marginLeft` px from the left, with ids
 * starting `idPrefix` (unique within a document).
 */
export function renderPanel(
  o: LineChartOptions,
  prepared: PreparedChart,
  marginLeft: number,
  idPrefix: string,
): Panel {
  const width = o.width ?? 720;
  const height = o.height ?? 340;
  const { xAxis } = prepared;
  const left = marginLeft;
  // Room for half of the last x label, which is centred on the right edge.
  const lastX = xAxis.labels[xAxis.labels.length - 1] ?? "";
  const right = width - Math.max(18, Math.ceil(textWidth(lastX, 11) / 2) + 6);
  const body = [
    textAt(
      left,
      24,
      o.title,
      `font-size="15" font-weight="600" fill="${TEXT}"`,
    ),
  ];
  const legend = legendElements(prepared.series, left, right);
  body.push(...legend.elements);
  const area = { left, right, top: 40 + 22 * legend.rows, bottom: height - 46 };
  body.push(...frameElements(o, prepared, area, height));
  if (!prepared.hasData) {
    body.push(
      textAt(
        (left + right) / 2,
        (area.top + area.bottom) / 2,
        "no data",
        `text-anchor="middle" font-size="13" fill="${MUTED}"`,
      ),
    );
    return { width, height, body };
  }
  body.push(...dataElements(o, prepared, area, `${idPrefix}-clip`));
  return { width, height, body };
}

/** The plot area of a panel, in px. */
interface PlotArea {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

type PreparedSeries = PreparedChart["series"][number];

function textAt(x: number, y: number, text: string, attrs: string): string {
  return `<text x="${num(x)}" y="${num(y)}" ${attrs}>${escapeXml(text)}</text>`;
}

/**
 * The legend of a panel with several series, and how many rows it takes:
 * entries flow left to right under the title, wrapping at the plot's right
 * edge; the plot area starts below the last row.
 */
function legendElements(
  series: readonly PreparedSeries[],
  left: number,
  right: number,
): { rows: number; elements: string[] } {
  const elements: string[] = [];
  if (series.length <= 1) return { rows: 0, elements };
  let x = left;
  let rows = 1;
  for (const s of series) {
    const w = 23 + textWidth(s.name, 12);
    if (x > left && x + w > right) {
      x = left;
      rows++;
    }
    const y = 43 + 20 * (rows - 1);
    elements.push(
      `<line x1="${num(x)}" y1="${y}" x2="${num(x + 18)}" y2="${y}" stroke="${
        escapeXml(s.color)
      }" stroke-width="3"${
        s.opacity !== undefined ? ` stroke-opacity="${num(s.opacity)}"` : ""
      }${s.dashed ? ` stroke-dasharray="5 3"` : ""}/>`,
    );
    elements.push(
      textAt(x + 23, y + 4, s.name, `font-size="12" fill="${TEXT}"`),
    );
    x += w + 18;
  }
  return { rows, elements };
}

/** Grid, frame, tick labels and axis titles. */
function frameElements(
  o: LineChartOptions,
  { xAxis, yAxis }: PreparedChart,
  { left, right, top, bottom }: PlotArea,
  height: number,
): string[] {
  const grid: string[] = [];
  const labels: string[] = [];
  xAxis.ticks.forEach((v, i) => {
    const x = project(xAxis, v, left, right);
    grid.push(`M${num(x)} ${num(top)}V${num(bottom)}`);
    labels.push(
      textAt(x, bottom + 16, xAxis.labels[i], `text-anchor="middle"`),
    );
  });
  yAxis.ticks.forEach((v, i) => {
    const y = project(yAxis, v, bottom, top);
    grid.push(`M${num(left)} ${num(y)}H${num(right)}`);
    labels.push(textAt(left - 6, y + 4, yAxis.labels[i], `text-anchor="end"`));
  });
  const cy = (top + bottom) / 2;
  return [
    `<path d="${
      grid.join("")
    }" stroke="${GRID}" stroke-width="1" fill="none"/>`,
    `<rect x="${num(left)}" y="${num(top)}" width="${
      num(right - left)
    }" height="${
      num(bottom - top)
    }" fill="none" stroke="${FRAME}" stroke-width="1"/>`,
    `<g font-size="11" fill="${MUTED}">${labels.join("")}</g>`,
    textAt(
      (left + right) / 2,
      height - 10,
      o.xLabel,
      `text-anchor="middle" font-size="12" fill="${TEXT}"`,
    ),
    `<text transform="translate(16 ${
      num(cy)
    }) rotate(-90)" text-anchor="middle" font-size="12" fill="${TEXT}">${
      escapeXml(o.yLabel)
    }</text>`,
  ];
}

/** Data to px, and which values an axis can show (log axes: only > 0). */
interface PlotScale {
  /** The x of a value in px. */
  readonly projectX: (v: number) => number;
  /** {@linkcode PlotScale.projectX}, formatted. */
  readonly px: (v: number) => string;
  /** The y of a value in px, formatted. */
  readonly py: (v: number) => string;
  readonly okX: (v: number) => boolean;
  readonly okY: (v: number) => boolean;
}

function plotScale(
  o: LineChartOptions,
  { xAxis, yAxis }: PreparedChart,
  { left, right, top, bottom }: PlotArea,
): PlotScale {
  const projectX = (v: number) => project(xAxis, v, left, right);
  return {
    projectX,
    px: (v) => num(projectX(v)),
    py: (v) => num(project(yAxis, v, bottom, top)),
    okX: (v) => Number.isFinite(v) && (!o.logX || v > 0),
    okY: (v) => Number.isFinite(v) && (!o.logY || v > 0),
  };
}

/**
 * The series: bands and lines clipped to the plot area, then interval bars
 * and dots on top, unclipped.
 */
function dataElements(
  o: LineChartOptions,
  prepared: PreparedChart,
  area: PlotArea,
  clipId: string,
): string[] {
  const { left, right, top, bottom } = area;
  const body = [
    `<clipPath id="${clipId}"><rect x="${num(left)}" y="${num(top)}" width="${
      num(right - left)
    }" height="${num(bottom - top)}"/></clipPath>`,
  ];
  const scale = plotScale(o, prepared, area);
  const { okX, okY, px, py } = scale;
  const bands: string[] = [];
  const paths: string[] = [];
  const marks: string[] = [];
  for (const s of prepared.series) {
    const color = escapeXml(s.color);
    if (s.band) {
      const d = bandPath(s.x, s.band, okX, okY, px, py, o.stepped ?? false);
      if (d !== "") {
        bands.push(
          `<path class="band" d="${d}" fill="${color}" fill-opacity="0.18" stroke="none"/>`,
        );
      }
    }
    if (s.line !== false) {
      const line = lineElement(s, color, scale, o.stepped ?? false);
      if (line !== null) paths.push(line);
    }
    if (s.errorBars) {
      const bars = errorBarsElement(s.x, s.errorBars, color, scale);
      if (bars !== null) marks.push(bars);
    }
    if (s.markers) {
      for (let i = 0; i < s.x.length; i++) {
        if (!okX(s.x[i]) || !okY(s.y[i])) continue;
        marks.push(
          `<circle cx="${px(s.x[i])}" cy="${
            py(s.y[i])
          }" r="3.5" fill="${color}"/>`,
        );
      }
    }
  }
  body.push(
    `<g clip-path="url(#${clipId})">${bands.join("")}${paths.join("")}</g>`,
  );
  if (marks.length > 0) body.push(`<g>${marks.join("")}</g>`);
  return body;
}

/** The line of a series, or `null` when no point can be drawn. */
function lineElement(
  s: PreparedSeries,
  color: string,
  { okX, okY, px, py }: PlotScale,
  stepped: boolean,
): string | null {
  const d: string[] = [];
  let pen = false;
  for (let i = 0; i < s.x.length; i++) {
    const xv = s.x[i];
    const yv = s.y[i];
    if (!okX(xv)) continue;
    if (!okY(yv)) {
      pen = false; // a gap: the next finite point starts a new subpath
      continue;
    }
    if (!pen) d.push(`M${px(xv)} ${py(yv)}`);
    else if (stepped) d.push(`H${px(xv)}V${py(yv)}`);
    else d.push(`L${px(xv)} ${py(yv)}`);
    pen = true;
  }
  if (d.length === 0) return null;
  const attrs = [
    `d="${d.join("")}"`,
    `stroke="${color}"`,
    `stroke-width="${num(s.strokeWidth ?? 1.5)}"`,
    s.opacity !== undefined ? `stroke-opacity="${num(s.opacity)}"` : "",
    s.dashed ? `stroke-dasharray="6 4"` : "",
    `fill="none"`,
    `stroke-linejoin="round"`,
  ].filter((a) => a !== "");
  return `<path ${attrs.join(" ")}/>`;
}

/**
 * The interval bars of a series, or `null` when none can be drawn: one
 * subpath per bar (from the low end up to the high end), then the caps.
 * Bars are drawn unclipped, on top, so an end on the frame shows.
 */
function errorBarsElement(
  x: readonly number[],
  errorBars: Interval,
  color: string,
  { projectX, okX, okY, py }: PlotScale,
): string | null {
  const bars: string[] = [];
  const caps: string[] = [];
  for (let i = 0; i < x.length; i++) {
    const lo = errorBars.low[i];
    const hi = errorBars.high[i];
    if (!okX(x[i]) || !okY(lo) || !okY(hi)) continue;
    const px = projectX(x[i]);
    bars.push(`M${num(px)} ${py(lo)}V${py(hi)}`);
    for (const v of [lo, hi]) {
      caps.push(`M${num(px - 4)} ${py(v)}H${num(px + 4)}`);
    }
  }
  if (bars.length === 0) return null;
  return `<path class="bars" d="${bars.join("")}${
    caps.join("")
  }" stroke="${color}" stroke-width="1.5" fill="none"/>`;
}

/**
 * The outline of a band: the upper edge left to right, then the lower edge
 * back, closed; one closed subpath per run of usable points (a non-finite end
 * breaks the band). Stepped bands hold each value until the next x.
 */
function bandPath(
  x: readonly number[],
  band: Interval,
  okX: (v: number) => boolean,
  okY: (v: number) => boolean,
  px: (v: number) => string,
  py: (v: number) => string,
  stepped: boolean,
): string {
  const parts: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length >= 2) {
      const d: string[] = [];
      run.forEach((i, k) => {
        if (k === 0) d.push(`M${px(x[i])} ${py(band.high[i])}`);
        else if (stepped) d.push(`H${px(x[i])}V${py(band.high[i])}`);
        else d.push(`L${px(x[i])} ${py(band.high[i])}`);
      });
      const last = run[run.length - 1];
      d.push(
        stepped
          ? `V${py(band.low[last])}`
          : `L${px(x[last])} ${py(band.low[last])}`,
      );
      for (let k = run.length - 2; k >= 0; k--) {
        const i = run[k];
        if (stepped) d.push(`V${py(band.low[i])}H${px(x[i])}`);
        else d.push(`L${px(x[i])} ${py(band.low[i])}`);
      }
      parts.push(d.join("") + "Z");
    }
    run = [];
  };
  for (let i = 0; i < x.length; i++) {
    if (!okX(x[i])) continue;
    if (okY(band.low[i]) && okY(band.high[i])) run.push(i);
    else flush();
  }
  flush();
  return parts.join("");
}
