/**
 * The look of every chart: a palette safe for colour-vision deficiencies,
 * the font, the greys of text, grid and frame, and an estimate of text width
 * (there are no text metrics without a renderer).
 *
 * @module
 */

/** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
];

/** The font stack of all text. */
export const FONT =
  "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
/** Titles, axis names and legend text. */
export const TEXT = "#1f2937";
/** Tick labels and "no data". */
export const MUTED = "#4b5563";
/** Grid lines. */
export const GRID = "#e5e7eb";
/** The frame around the plot area. */
export const FRAME = "#9ca3af";

/** Rough width of a label: SVG has no text metrics without a renderer. */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}
