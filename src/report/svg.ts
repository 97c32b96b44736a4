/**
 * Dependency-free SVG line charts for the reports: lines, optionally with
 * dots, interval bars (a confidence interval or a range at each point) and a
 * filled band (an envelope of several runs), on linear or logarithmic axes.
 *
 * Charts are plain strings, byte-identical for identical input: coordinates
 * are rounded to 2 decimals, element ids are derived from the content, and
 * nothing reads the clock or the locale. Every chart paints an explicit white
 * background, so it stays readable when a Markdown viewer uses a dark theme.
 *
 * Long series (a loss per step over 10,000 steps) are reduced to at most
 * about 1,000 points by keeping the minimum and maximum of each bucket, so
 * loss spikes survive the reduction.
 *
 * @module
 */

/** One line of a chart. */
export interface Series {
  /** Legend label. */
  readonly name: string;
  /** Abscissae, ascending. Non-finite values are skipped. */
  readonly x: readonly number[];
  /** Ordinates, as many as `x`. Non-finite values break the line. */
  readonly y: readonly number[];
  /** CSS colour; default: the next colour of a colour-blind-safe palette. */
  readonly color?: string;
  /** Stroke opacity in (0, 1]; default 1 (e.g. 0.35 for a raw series under its average). */
  readonly opacity?: number;
  /** Stroke width in px; default 1.5. */
  readonly strokeWidth?: number;
  /** Draw dashed (reference lines such as a threshold). */
  readonly dashed?: boolean;
  /** Draw the line through the points; default true. */
  readonly line?: boolean;
  /** Draw a dot at every point. */
  readonly markers?: boolean;
  /**
   * A vertical bar from `low[i]` to `high[i]` at every `x[i]` (a confidence
   * interval, a range), with short caps. Non-finite ends skip the bar.
   */
  readonly errorBars?: Interval;
  /**
   * A filled band between `low[i]` and `high[i]` (an envelope of several
   * runs), under the line; non-finite ends break it.
   */
  readonly band?: Interval;
}

/** Lower and upper values at each point of a {@linkcode Series}. */
export interface Interval {
  readonly low: readonly number[];
  readonly high: readonly number[];
}

/** A tick placed by the caller: a value on the axis and its label. */
export interface Tick {
  readonly value: number;
  readonly label: string;
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Width in px; default 720. */
  readonly width?: number;
  /** Height in px; default 340. */
  readonly height?: number;
  /** Logarithmic y axis (non-positive values are skipped). */
  readonly logY?: boolean;
  /** Logarithmic x axis (points at non-positive x are skipped). */
  readonly logX?: boolean;
  /** Left end of the x axis; default: from the data, rounded to a tick. */
  readonly xMin?: number;
  /** Right end of the x axis; default: from the data, rounded to a tick. */
  readonly xMax?: number;
  /**
   * The x ticks and their labels (e.g. categories drawn at 0, 1, 2, ...),
   * instead of computed ones.
   */
  readonly xTicks?: readonly Tick[];
  /** Lower end of the y axis; default: from the data, rounded to a tick. */
  readonly yMin?: number;
  /** Upper end of the y axis; default: from the data, rounded to a tick. */
  readonly yMax?: number;
  /**
   * Draw each value as holding until the next x (integer counts such as C
   * and P at recorded steps), and use integer y ticks.
   */
  readonly stepped?: boolean;
  /** Maximum points drawn per series; default 1,000. */
  readonly maxPoints?: number;
}

/** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
const PALETTE = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
];

const FONT =
  "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const TEXT = "#1f2937";
const MUTED = "#4b5563";
const GRID = "#e5e7eb";
const FRAME = "#9ca3af";

/**
 * Escapes text for SVG/XML content and attribute values.
 *
 * @example
 * ```ts
 * import { escapeXml } from "./svg.ts";
 * escapeXml(`a<b & "c"`); // "a&lt;b &amp; &quot;c&quot;"
 * ```
 */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;")
    // XML 1.0 forbids most C0 controls even as character references.
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd");
}

/** Options of {@linkcode niceTicks}. */
export interface NiceTickOptions {
  /** Never use a step below 1 (counts). */
  readonly integer?: boolean;
}

/**
 * Evenly spaced "nice" tick values (step 1, 2 or 5 x 10^k) whose first tick
 * is at or below `min` and whose last is at or above `max`, with about
 * `count` intervals: the step is the smallest nice number >= (max - min) /
 * count. A zero-width range is widened by 10% of its value (1 at zero).
 *
 * @example
 * ```ts
 * import { niceTicks } from "./svg.ts";
 * niceTicks(0, 10, 5); // [0, 2, 4, 6, 8, 10]
 * niceTicks(3, 97, 5); // [0, 20, 40, 60, 80, 100]
 * ```
 */
export function niceTicks(
  min: number,
  max: number,
  count: number,
  options: NiceTickOptions = {},
): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`niceTicks: bad range [${min}, ${max}]`);
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`niceTicks: count must be a positive integer`);
  }
  if (min === max) {
    const pad = options.integer ? 1 : (min === 0 ? 1 : Math.abs(min) * 0.1);
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  let exp = Math.floor(Math.log10(raw));
  const frac = raw / 10 ** exp;
  // A tiny tolerance keeps e.g. raw = 0.2000000001 (from float division) at 2.
  let mant = frac <= 1 + 1e-9
    ? 1
    : frac <= 2 + 1e-9
    ? 2
    : frac <= 5 + 1e-9
    ? 5
    : 10;
  if (mant === 10) {
    mant = 1;
    exp += 1;
  }
  if (options.integer && exp < 0) {
    mant = 1;
    exp = 0;
  }
  const step = mant * 10 ** exp;
  const k0 = Math.floor(min / step + 1e-9);
  const k1 = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) {
    // k * mant is an exact integer; dividing by an exact power of ten gives
    // the double nearest the decimal (0.6, not 0.6000000000000001).
    const v = exp >= 0 ? k * mant * 10 ** exp : (k * mant) / 10 ** -exp;
    ticks.push(v + 0); // + 0 turns -0 into 0
  }
  return ticks;
}

/**
 * Tick values for a logarithmic axis over positive `[min, max]`: the powers
 * of ten around the range, with the 2 and 5 multiples added when fewer than
 * three decades are spanned; trimmed to the last tick at or below `min` and
 * the first at or above `max`.
 *
 * @example
 * ```ts
 * import { logTicks } from "./svg.ts";
 * logTicks(0.002, 30); // [0.001, 0.01, 0.1, 1, 10, 100]
 * logTicks(1.5, 4.8); // [1, 2, 5]
 * ```
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`logTicks: bad positive range [${min}, ${max}]`);
  }
  const e0 = Math.floor(Math.log10(min) + 1e-9);
  let e1 = Math.ceil(Math.log10(max) - 1e-9);
  if (e1 === e0) e1 = e0 + 1;
  const decade = (e: number) => e >= 0 ? 10 ** e : 1 / 10 ** -e;
  const mults = e1 - e0 >= 3 ? [1] : [1, 2, 5];
  const all: number[] = [];
  for (let e = e0; e <= e1; e++) {
    for (const m of mults) {
      if (e === e1 && m > 1) break;
      all.push(e >= 0 ? m * decade(e) : m / 10 ** -e);
    }
  }
  let lo = 0;
  while (lo + 1 < all.length && all[lo + 1] <= min * (1 + 1e-12)) lo++;
  let hi = all.length - 1;
  while (hi - 1 >= 0 && all[hi - 1] >= max * (1 - 1e-12)) hi--;
  return all.slice(lo, hi + 1);
}

/**
 * Formats a tick value with as many decimals as the tick step needs,
 * thousands separated by commas; exponent notation for very small or very
 * large steps.
 *
 * @example
 * ```ts
 * import { formatTick } from "./svg.ts";
 * formatTick(10000, 2000); // "10,000"
 * formatTick(0.6, 0.2); // "0.6"
 * formatTick(0.000004, 0.000002); // "4e-6"
 * ```
 */
export function formatTick(value: number, step: number): string {
  if (value === 0) return "0";
  const s = Math.abs(step);
  if (s > 0 && (s < 1e-3 || s >= 1e7)) {
    // "4e-6", "1.5e+7" -> "1.5e7"
    return Number(value.toPrecision(6)).toExponential().replace("e+", "e");
  }
  // As many decimals as the step has: 0.2 -> 1, 0.25 -> 2, 2000 -> 0.
  let decimals = 0;
  while (
    decimals < 20 &&
    Math.abs(Math.round(s * 10 ** decimals) - s * 10 ** decimals) >
      1e-9 * s * 10 ** decimals
  ) decimals++;
  const fixed = Math.abs(value).toFixed(decimals);
  const [int, dec] = fixed.split(".");
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, ",");
  return (value < 0 ? "-" : "") + grouped + (dec ? "." + dec : "");
}

/**
 * Reduces a series to at most `maxPoints` points, keeping the first and last
 * point and, of each of `(maxPoints - 2) / 2` equal index buckets, the
 * points with the smallest and largest y (in index order), so spikes and
 * dips survive. A non-finite y inside a bucket is kept too, so gaps stay
 * gaps. Series that already fit are returned as copies.
 *
 * @example
 * ```ts
 * import { downsampleMinMax } from "./svg.ts";
 * const x = Array.from({ length: 10_000 }, (_, i) => i);
 * const y = x.map((i) => (i === 4321 ? 100 : 1));
 * const d = downsampleMinMax(x, y, 1000);
 * d.x.length <= 1000; // true
 * d.y.includes(100); // true
 * ```
 */
export function downsampleMinMax(
  x: readonly number[],
  y: readonly number[],
  maxPoints: number,
): { x: number[]; y: number[] } {
  if (x.length !== y.length) {
    throw new RangeError(`x has ${x.length} values, y has ${y.length}`);
  }
  const keep = downsampleIndices(y, maxPoints);
  return { x: keep.map((i) => x[i]), y: keep.map((i) => y[i]) };
}

/** The indices {@linkcode downsampleMinMax} keeps, ascending. */
function downsampleIndices(y: readonly number[], maxPoints: number): number[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 4) {
    throw new RangeError(`maxPoints must be an integer >= 4`);
  }
  const n = y.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor((maxPoints - 2) / 2);
  const keep: number[] = [0];
  const inner = n - 2; // indices 1 .. n-2
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = -1, hi = -1, bad = -1;
    for (let i = start; i < end; i++) {
      const v = y[i];
      if (!Number.isFinite(v)) {
        if (bad < 0) bad = i;
        continue;
      }
      if (lo < 0 || v < y[lo]) lo = i;
      if (hi < 0 || v > y[hi]) hi = i;
    }
    const picked = [...new Set([lo, hi, bad].filter((i) => i >= 0))]
      .sort((a, b) => a - b);
    // A bucket holding both extremes and a gap emits 3 points: only series
    // full of gaps can exceed the budget, by one point per such bucket.
    keep.push(...picked);
  }
  keep.push(n - 1);
  return keep;
}

/** Formats a coordinate: at most 2 decimals, no "-0". */
function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r + 0);
}

/** 32-bit FNV-1a of a string, as 8 hex digits (content-derived ids). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Rough width of a label: SVG has no text metrics without a renderer. */
function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  log: boolean;
  labels: string[];
}

function linearAxis(
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

function logAxis(values: number[], fixedMin?: number, fixedMax?: number): Axis {
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

function project(axis: Axis, v: number, r0: number, r1: number): number {
  const f = axis.log
    ? (Math.log10(v) - Math.log10(axis.lo)) /
      (Math.log10(axis.hi) - Math.log10(axis.lo))
    : (v - axis.lo) / (axis.hi - axis.lo);
  return r0 + f * (r1 - r0);
}

/** A chart's geometry and its SVG elements, before the outer `<svg>`. */
interface Panel {
  width: number;
  height: number;
  body: string[];
}

function marginLeftFor(yAxis: Axis): number {
  const widest = Math.max(0, ...yAxis.labels.map((l) => textWidth(l, 11)));
  return Math.ceil(widest + 40);
}

function prepare(o: LineChartOptions) {
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

function renderPanel(
  o: LineChartOptions,
  prepared: ReturnType<typeof prepare>,
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

function wrap(width: number, height: number, title: string, inner: string) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${
      num(height)
    }" viewBox="0 0 ${num(width)} ${num(height)}" font-family="${FONT}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    inner,
    `</svg>`,
    "",
  ].join("\n");
}

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
 * import { lineChart } from "./svg.ts";
 * const svg = lineChart({
 *   title: "Loss",
 *   xLabel: "step",
 *   yLabel: "loss",
 *   series: [{ name: "loss", x: [1, 2, 3], y: [4.8, 3.1, 2.5] }],
 * });
 * svg.startsWith("<svg"); // true
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
  return wrap(panel.width, panel.height, options.title, panel.body.join("\n"));
}

/**
 * Renders several charts stacked vertically in one SVG document, with their
 * plot areas aligned (e.g. P above C, which live on different scales).
 * Every panel takes the width of the first.
 *
 * @example
 * ```ts
 * import { stackedCharts } from "./svg.ts";
 * const svg = stackedCharts("C and P", [
 *   { title: "P", xLabel: "step", yLabel: "P", stepped: true, series: [{ name: "P", x: [0, 10], y: [51, 50] }] },
 *   { title: "C", xLabel: "step", yLabel: "C", stepped: true, series: [{ name: "C", x: [0, 10], y: [1, 2] }] },
 * ]);
 * svg.includes("translate(0 340)"); // true
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
  return wrap(width, y, title, parts.join("\n"));
}
