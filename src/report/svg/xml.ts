/**
 * SVG as strings: escaping, coordinates with at most two decimals,
 * content-derived ids, and the document around a chart's elements. All of
 * it deterministic, so identical input gives identical bytes.
 *
 * @module
 */

import { FONT } from "./style.ts";

/**
 * Escapes text for SVG/XML content and attribute values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeXml } from "./xml.ts";
 * assert.equal(escapeXml(`a<b & "c"`), "a&lt;b &amp; &quot;c&quot;");
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

/** Formats a coordinate: at most 2 decimals, no "-0". */
export function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r + 0);
}

/** 32-bit FNV-1a of a string, as 8 hex digits (content-derived ids). */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * A standalone SVG document around `inner`, with its `title`. The explicit
 * white background keeps a chart readable when a Markdown viewer uses a
 * dark theme.
 */
export function svgDocument(
  width: number,
  height: number,
  title: string,
  inner: string,
): string {
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
