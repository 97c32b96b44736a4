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
  const { series, xAxis, yAxis, hasData } = prepared;
  const left = marginLeft;
  // Room for half of the last x label, which is centred on the right edge.
  const lastX = xAxis.labels[xAxis.labels.length - 1] ?? "";
  const right = width - Math.max(18, Math.ceil(textWidth(lastX, 11) / 2) + 6);
  const body: string[] = [];
  const t = (x: number, y: number, text: string, attrs: string) =>
    `<text x="${num(x)}" y="${num(y)}" ${attrs}>${escapeXml(text)}</text>`;

  body.push(
    t(left, 24, o.title, `font-size="15" font-weight="600" fill="${TEXT}"`),
  );
  // Legend entries flow left to right under the title, wrapping at the
  // plot's right edge; the plot area starts below the last row.
  let legendRows = 0;
  if (series.length > 1) {
    let x = left;
    legendRows = 1;
    for (const s of series) {
      const w = 23 + textWidth(s.name, 12);
      if (x > left && x + w > right) {
        x = left;
        legendRows++;
      }
      const y = 43 + 20 * (legendRows - 1);
      body.push(
        `<line x1="${num(x)}" y1="${y}" x2="${num(x + 18)}" y2="${y}" stroke="${
          escapeXml(s.color)
        }" stroke-width="3"${
          s.opacity !== undefined ? ` stroke-opacity="${num(s.opacity)}"` : ""
        }${s.dashed ? ` stroke-dasharray="5 3"` : ""}/>`,
      );
      body.push(t(x + 23, y + 4, s.name, `font-size="12" fill="${TEXT}"`));
      x += w + 18;
    }
  }
  const top = 40 + 22 * legendRows;
  const bottom = height - 46;

  // Grid and tick labels.
  const grid: string[] = [];
  const labels: string[] = [];
  xAxis.ticks.forEach((v, i) => {
    const x = project(xAxis, v, left, right);
    grid.push(`M${num(x)} ${num(top)}V${num(bottom)}`);
    labels.push(
      t(x, bottom + 16, xAxis.labels[i], `text-anchor="middle"`),
    );
  });
  yAxis.ticks.forEach((v, i) => {
    const y = project(yAxis, v, bottom, top);
    grid.push(`M${num(left)} ${num(y)}H${num(right)}`);
    labels.push(t(left - 6, y + 4, yAxis.labels[i], `text-anchor="end"`));
  });
  body.push(
    `<path d="${
      grid.join("")
    }" stroke="${GRID}" stroke-width="1" fill="none"/>`,
  );
  body.push(
    `<rect x="${num(left)}" y="${num(top)}" width="${
      num(right - left)
    }" height="${
      num(bottom - top)
    }" fill="none" stroke="${FRAME}" stroke-width="1"/>`,
  );
  body.push(`<g font-size="11" fill="${MUTED}">${labels.join("")}</g>`);
  body.push(
    t(
      (left + right) / 2,
      height - 10,
      o.xLabel,
      `text-anchor="middle" font-size="12" fill="${TEXT}"`,
    ),
  );
  const cy = (top + bottom) / 2;
  body.push(
    `<text transform="translate(16 ${
      num(cy)
    }) rotate(-90)" text-anchor="middle" font-size="12" fill="${TEXT}">${
      escapeXml(o.yLabel)
    }</text>`,
  );

  if (!hasData) {
    body.push(
      t(
        (left + right) / 2,
        cy,
        "no data",
        `text-anchor="middle" font-size="13" fill="${MUTED}"`,
      ),
    );
    return { width, height, body };
  }

  const clipId = `${idPrefix}-clip`;
  body.push(
    `<clipPath id="${clipId}"><rect x="${num(left)}" y="${num(top)}" width="${
      num(right - left)
    }" height="${num(bottom - top)}"/></clipPath>`,
  );
  const px = (v: number) => num(project(xAxis, v, left, right));
  const py = (v: number) => num(project(yAxis, v, bottom, top));
  const okX = (v: number) => Number.isFinite(v) && (!o.logX || v > 0);
  const okY = (v: number) => Number.isFinite(v) && (!o.logY || v > 0);
  const bands: string[] = [];
  const paths: string[] = [];
  const marks: string[] = [];
  for (const s of series) {
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
        else if (o.stepped) d.push(`H${px(xv)}V${py(yv)}`);
        else d.push(`L${px(xv)} ${py(yv)}`);
        pen = true;
      }
      if (d.length > 0) {
        const attrs = [
          `d="${d.join("")}"`,
          `stroke="${color}"`,
          `stroke-width="${num(s.strokeWidth ?? 1.5)}"`,
          s.opacity !== undefined ? `stroke-opacity="${num(s.opacity)}"` : "",
          s.dashed ? `stroke-dasharray="6 4"` : "",
          `fill="none"`,
          `stroke-linejoin="round"`,
        ].filter((a) => a !== "");
        paths.push(`<path ${attrs.join(" ")}/>`);
      }
    }
    if (s.errorBars) {
      // One subpath per bar (from the low end up to the high end), then the
      // caps: bars are drawn unclipped, on top, so an end on the frame shows.
      const bars: string[] = [];
      const caps: string[] = [];
      for (let i = 0; i < s.x.length; i++) {
        const lo = s.errorBars.low[i];
        const hi = s.errorBars.high[i];
        if (!okX(s.x[i]) || !okY(lo) || !okY(hi)) continue;
        const x = project(xAxis, s.x[i], left, right);
        bars.push(`M${num(x)} ${py(lo)}V${py(hi)}`);
        for (const v of [lo, hi]) {
          caps.push(`M${num(x - 4)} ${py(v)}H${num(x + 4)}`);
        }
      }
      if (bars.length > 0) {
        marks.push(
          `<path class="bars" d="${bars.join("")}${
            caps.join("")
          }" stroke="${color}" stroke-width="1.5" fill="none"/>`,
        );
      }
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
  return { width, height, body };
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
