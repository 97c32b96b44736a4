/**
 * The reports index (`reports/README.md`): one row per hypothesis.
 *
 * @module
 */

import { expectationText, outcomeOf } from "../../verdict/claims.ts";
import { isComplete, type RunRecord } from "../../hypothesis/types.ts";
import type { Hypothesis } from "../../hypothesis/types.ts";
import { linkTarget, table } from "./blocks.ts";
import { escapeCell, markdownCell } from "./escape.ts";
import { shortRate } from "./format.ts";

/** One line of the reports index. */
export interface IndexRow {
  /** The hypothesis of the row. */
  readonly hypothesis: Hypothesis;
  /** Its run records. */
  readonly runs: readonly RunRecord[];
  /** The report's file name, relative to the index. */
  readonly file: string;
}

/** Options of {@link renderIndex}. */
export interface IndexOptions {
  /** The plot of rates (`rates.svg`), relative to the index; none if absent. */
  readonly plot?: string;
}

/**
 * The reports index (`reports/README.md`): one row per hypothesis, linked
 * to its report, with the rate over seeds besides the primary run's C and P.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeHypothesis, makeRun } from "../../testing/records.ts";
 * import { renderIndex } from "./index_report.ts";
 * const md = renderIndex([
 *   { hypothesis: makeHypothesis(), runs: [makeRun()], file: "h.md" },
 * ]);
 * assert.ok(md.startsWith("# Reports\n"));
 * assert.ok(md.includes(
 *   "| [11.2b-jiggling](h.md) | Synthetic jiggling \\| noise | positive | positive | positive 1/1 (21–100%) | ✓ | 2 | 5 | smoke | cpu |",
 * ));
 * ```
 */
export function renderIndex(
  rows: readonly IndexRow[],
  options: IndexOptions = {},
): string {
  const body = rows.map(({ hypothesis: h, runs, file }) => {
    const o = outcomeOf(h, runs);
    const r = o.primary;
    return [
      `[${escapeCell(h.id)}](${linkTarget(file)})`,
      markdownCell(h.title),
      expectationText(h),
      o.observed ?? "not run",
      r ? shortRate(o.claimVerdict, o.claim.rate, o.claim.invalid) : "—",
      r ? (o.pass ? "✓" : "✗") : "—",
      r && isComplete(r) ? String(r.final.C) : "—",
      r && isComplete(r) ? String(r.final.P) : "—",
      r ? r.tier : "—",
      r ? escapeCell(r.backend) : "—",
    ];
  });
  return [
    "# Reports",
    "",
    "One row per hypothesis. observed, C and P: the run with the hypothesis's own seed and config (invalid: it diverged). rate: how many of the completed runs at its own config reach the predicted verdict, with the 95% Wilson interval (diverged runs are counted apart, as invalid). ok ✓: the expectation holds (a rate or sweep boundary when one is predicted, else the own-seed run's verdict).",
    "",
    table(
      [
        "hypothesis",
        "title",
        "expected",
        "observed",
        "rate",
        "ok",
        "C",
        "P",
        "tier",
        "backend",
      ],
      body,
    ),
    "",
    ...(options.plot === undefined ? [] : [
      "Each hypothesis's rate at a glance: the share of its seeds that reached the predicted verdict, with the 95% Wilson interval, and the share its expectation asked for.",
      "",
      `![Rates over seeds](${linkTarget(options.plot)})`,
      "",
    ]),
  ].join("\n");
}
