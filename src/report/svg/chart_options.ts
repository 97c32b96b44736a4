/**
 * What a chart is drawn from: its series (lines, dots, interval bars,
 * bands), caller-placed ticks, and the options of a chart.
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
  /** Lower ends, one per point. */
  readonly low: readonly number[];
  /** Upper ends, one per point. */
  readonly high: readonly number[];
}

/** A tick placed by the caller: a value on the axis and its label. */
export interface Tick {
  /** Where on the axis. */
  readonly value: number;
  /** What is written there. */
  readonly label: string;
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions {
  /** Written above the plot, and the document's `<title>`. */
  readonly title: string;
  /** Under the x axis. */
  readonly xLabel: string;
  /** Beside the y axis. */
  readonly yLabel: string;
  /** The lines, drawn in order (a legend when more than one). */
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
