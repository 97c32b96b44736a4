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
import { PathData } from "./path.ts";
import { simplifyPolyline } from "./simplify.ts";
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

/**
 * How far (px) a line may pass from a point it leaves out: a tenth of the
 * thinnest stroke (1 px), as far as rounding positions to 0.1 px moves
 * them. Moving an edge by d px changes a pixel's coverage by at most d.
 */
const TOLERANCE = 0.1;

/** Data to px, and which values an axis can show (log axes: only > 0). */
interface PlotScale {
  /** The x of a value in px. */
  readonly projectX: (v: number) => number;
  /** The y of a value in px. */
  readonly projectY: (v: number) => number;
  readonly okX: (v: number) => boolean;
  readonly okY: (v: number) => boolean;
}

function plotScale(
  o: LineChartOptions,
  { xAxis, yAxis }: PreparedChart,
  { left, right, top, bottom }: PlotArea,
): PlotScale {
  return {
    projectX: (v) => project(xAxis, v, left, right),
    projectY: (v) => project(yAxis, v, bottom, top),
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
  const { okX, okY, projectX, projectY } = scale;
  const stepped = o.stepped ?? false;
  const bands: string[] = [];
  const paths: string[] = [];
  const marks: string[] = [];
  for (const s of prepared.series) {
    const color = escapeXml(s.color);
    if (s.band) {
      const d = bandPath(s.x, s.band, scale, stepped);
      if (d !== "") {
        bands.push(
          `<path class="band" d="${d}" fill="${color}" fill-opacity="0.18" stroke="none"/>`,
        );
      }
    }
    if (s.line !== false) {
      const line = lineElement(s, color, scale, stepped);
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
          `<circle cx="${num(projectX(s.x[i]))}" cy="${
            num(projectY(s.y[i]))
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

/**
 * Draws one run of points (px) onto `d` as a new subpath: stepped, each
 * value holds until the next x; otherwise straight lines through the points
 * that change the picture (see {@linkcode simplifyPolyline}).
 */
function drawRun(
  d: PathData,
  xs: readonly number[],
  ys: readonly number[],
  stepped: boolean,
): void {
  d.moveTo(xs[0], ys[0]);
  if (stepped) {
    for (let k = 1; k < xs.length; k++) {
      d.horizontalTo(xs[k]);
      d.verticalTo(ys[k]);
    }
    return;
  }
  for (const i of simplifyPolyline(xs, ys, TOLERANCE).slice(1)) {
    d.lineTo(xs[i], ys[i]);
  }
}

/** The line of a series, or `null` when no point can be drawn. */
function lineElement(
  s: PreparedSeries,
  color: string,
  { okX, okY, projectX, projectY }: PlotScale,
  stepped: boolean,
): string | null {
  const d = new PathData();
  let xs: number[] = [];
  let ys: number[] = [];
  // A gap (a value the axis cannot show) ends a run: the next finite point
  // starts a new subpath.
  const flush = () => {
    if (xs.length > 0) drawRun(d, xs, ys, stepped);
    xs = [];
    ys = [];
  };
  for (let i = 0; i < s.x.length; i++) {
    if (!okX(s.x[i])) continue;
    if (!okY(s.y[i])) {
      flush();
      continue;
    }
    xs.push(projectX(s.x[i]));
    ys.push(projectY(s.y[i]));
  }
  flush();
  if (d.empty) return null;
  const attrs = [
    `d="${d}"`,
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
  { projectX, projectY, okX, okY }: PlotScale,
): string | null {
  const bars: string[] = [];
  const caps: string[] = [];
  const py = (v: number) => num(projectY(v));
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
  { okX, okY, projectX, projectY }: PlotScale,
  stepped: boolean,
): string {
  const d = new PathData();
  let run: number[] = [];
  const flush = () => {
    if (run.length >= 2) {
      const xs = run.map((i) => projectX(x[i]));
      drawRun(d, xs, run.map((i) => projectY(band.high[i])), stepped);
      const lows = run.map((i) => projectY(band.low[i]));
      const last = run.length - 1;
      if (stepped) {
        // Down at the last x, then each low held back to its own x.
        d.verticalTo(lows[last]);
        for (let k = last - 1; k >= 0; k--) {
          d.verticalTo(lows[k]);
          d.horizontalTo(xs[k]);
        }
      } else {
        const bx = xs.toReversed();
        const by = lows.toReversed();
        for (const i of simplifyPolyline(bx, by, TOLERANCE)) {
          d.lineTo(bx[i], by[i]);
        }
      }
      d.close();
    }
    run = [];
  };
  for (let i = 0; i < x.length; i++) {
    if (!okX(x[i])) continue;
    if (okY(band.low[i]) && okY(band.high[i])) run.push(i);
    else flush();
  }
  flush();
  return d.toString();
}
