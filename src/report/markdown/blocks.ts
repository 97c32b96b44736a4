/**
 * Markdown building blocks of the reports: tables and link targets.
 *
 * @module
 */

/**
 * A link destination that survives spaces and parentheses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkTarget } from "./blocks.ts";
 * assert.equal(linkTarget("a b(1).svg"), "a%20b%281%29.svg");
 * ```
 */
export function linkTarget(file: string): string {
  return encodeURI(file).replace(/\(/g, "%28").replace(/\)/g, "%29");
}

/**
 * A Markdown table: a header row, the `---` separator row, then the rows.
 * Cells are put in as they are (escape them first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { table } from "./blocks.ts";
 * assert.equal(table(["a", "b"], [["1", "2"]]), "| a | b |\n| --- | --- |\n| 1 | 2 |");
 * ```
 */
export function table(
  header: readonly string[],
  rows: readonly string[][],
): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header),
    line(header.map(() => "---")),
    ...rows.map(line),
  ].join("\n");
}
