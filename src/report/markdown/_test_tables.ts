/**
 * Checks on rendered Markdown for the report tests.
 *
 * @module
 */

import assert from "node:assert/strict";

/** GFM cell split: a `|` not preceded by a backslash separates cells. */
export function cells(line: string): string[] {
  return line.replace(/^\|/, "").replace(/(?<!\\)\|$/, "").split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** Every table row has as many cells as its header. */
export function checkTables(md: string): number {
  let tables = 0;
  let width = -1;
  for (const line of md.split("\n")) {
    if (!line.startsWith("|")) {
      width = -1;
      continue;
    }
    const n = cells(line).length;
    if (width < 0) {
      width = n;
      tables++;
    } else {assert.equal(
        n,
        width,
        `row has ${n} cells, header ${width}: ${line}`,
      );}
  }
  return tables;
}

export function lineWith(md: string, prefix: string): string {
  const line = md.split("\n").find((l) => l.startsWith(prefix));
  assert.ok(line !== undefined, `no line starting with ${prefix}`);
  return line;
}
