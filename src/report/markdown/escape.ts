/**
 * Escaping text from data (token labels, paths, engine strings) for
 * GitHub-flavoured Markdown, where `|` ends a table cell even inside a code
 * span, and control characters would be invisible or break lines.
 *
 * @module
 */

/** Printable stand-in for a control character: `\xNN` (or `\uNNNN`). */
function visibleControl(ch: string): string {
  const c = ch.charCodeAt(0);
  return c < 0x100
    ? `\\x${c.toString(16).padStart(2, "0")}`
    : `\\u${c.toString(16).padStart(4, "0")}`;
}

// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A Markdown code span showing `text` literally, safe inside a table cell:
 * the fence is one backtick longer than the longest backtick run inside,
 * padded with spaces when the text starts or ends with a backtick, `|` is
 * written `\|` (GitHub splits cells before parsing code spans, and shows
 * `\|` inside a code span as `|`), and control characters are shown as
 * `\xNN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeSpan } from "./escape.ts";
 * assert.equal(codeSpan("'a'"), "`'a'`");
 * assert.equal(codeSpan("'`'"), "``'`'``");
 * assert.equal(codeSpan("'|'"), "`'\\|'`");
 * ```
 */
export function codeSpan(text: string): string {
  const t = text.replace(CONTROLS, visibleControl).replace(/\|/g, "\\|");
  if (t === "") return "` `";
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  // A space is stripped from both ends of a padded span, so padding is only
  // added where a backtick at the edge would otherwise merge with the fence.
  const pad = t.startsWith("`") || t.endsWith("`") ||
      (t.startsWith(" ") && t.endsWith(" ") && t.trim() !== "")
    ? " "
    : "";
  return `${fence}${pad}${t}${pad}${fence}`;
}

/**
 * Plain text for a Markdown table cell: Markdown punctuation is
 * backslash-escaped (so it shows literally), `|` cannot end the cell,
 * line breaks become spaces and control characters show as `\xNN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeCell } from "./escape.ts";
 * assert.equal(escapeCell("a|b `c` *d*"), "a\\|b \\`c\\` \\*d\\*");
 * ```
 */
export function escapeCell(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, " ")
    .replace(CONTROLS, visibleControl)
    .replace(/[\\`*_{}[\]<>|#~!]/g, (c) => "\\" + c);
}

/**
 * Authored Markdown (a title, prose) placed in a table cell: kept as
 * Markdown, but line breaks become spaces and `|` is escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdownCell } from "./escape.ts";
 * assert.equal(markdownCell("A | B\nC"), "A \\| B C");
 * ```
 */
export function markdownCell(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ").replace(/(?<!\\)\|/g, "\\|");
}
