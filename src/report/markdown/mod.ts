/**
 * Markdown reports of hypotheses and their runs, and the index of all
 * reports.
 *
 * A report is a pure function of its hypothesis and run records: no clock,
 * no locale, no environment, so regenerating reports from the cache gives
 * byte-identical files (the only timestamps are the records' own
 * `finishedAt`). Everything that comes from data (token labels, paths,
 * engine strings) is escaped for GitHub-flavoured Markdown tables
 * (`escape.ts`). What the runs say (the claim, the ✓, the primary run) is
 * decided in `src/verdict/claims.ts`; this folder only writes it down:
 *
 * - `hypothesis_report.ts`, `index_report.ts`: the two documents;
 * - `verdict.ts`, `design.ts`, `run_sections.ts`, `replicates.ts`,
 *   `control.ts`, `provenance.ts`: the sections of a report;
 * - `escape.ts`, `blocks.ts`, `format.ts`: escaping, tables and links,
 *   numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeSpan, formatInt } from "./mod.ts";
 * assert.equal(`${codeSpan("a|b")} ${formatInt(265905)}`, "`a\\|b` 265,905");
 * ```
 *
 * @module
 */

export {
  type HypothesisReportOptions,
  renderHypothesisReport,
  type ReportPlots,
} from "./hypothesis_report.ts";
export { type ControlInput } from "./control.ts";
export {
  type IndexOptions,
  type IndexRow,
  renderIndex,
} from "./index_report.ts";
export { verdictBadge } from "./verdict.ts";
export { codeSpan, escapeCell, markdownCell } from "./escape.ts";
export {
  distributionText,
  formatDuration,
  formatInt,
  formatNumber,
  rateFraction,
  shortRate,
} from "./format.ts";
