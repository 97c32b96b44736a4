/**
 * The "Control" section: a hypothesis side by side with its control, the
 * config paths where they differ and the outcome of each.
 *
 * @module
 */

import {
  expectationText,
  type Outcome,
  outcomeOf,
} from "../../verdict/claims.ts";
import { configDiff } from "../../hypothesis/config_paths.ts";
import { rateText } from "../../verdict/rates.ts";
import type { Hypothesis, RunRecord } from "../../hypothesis/types.ts";
import { linkTarget, table } from "./blocks.ts";
import { codeSpan, escapeCell, markdownCell } from "./escape.ts";
import { distributionText, formatNumber, plural } from "./format.ts";

/** The hypothesis a report is compared with, side by side. */
export interface ControlInput {
  /** The control hypothesis. */
  readonly hypothesis: Hypothesis;
  /** Its run records (the same tier as the report's, when it has any). */
  readonly runs: readonly RunRecord[];
  /** Its report's file name, relative to this report (linked when given). */
  readonly file?: string;
}

function configValue(v: unknown): string {
  if (v === undefined) return "— (absent)";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return codeSpan(v);
  if (v === null || typeof v === "boolean") return String(v);
  return codeSpan(JSON.stringify(v));
}

/** The "Control" section of `h` beside its control `c`. */
export function controlSection(
  h: Hypothesis,
  o: Outcome,
  c: ControlInput,
): string {
  const ch = c.hypothesis;
  const co = outcomeOf(ch, c.runs);
  const name = c.file
    ? `[${escapeCell(ch.id)}](${linkTarget(c.file)})`
    : codeSpan(ch.id);
  const diff = configDiff(h.config, ch.config);
  const lines = [
    `Side by side with its control, ${name}: ${markdownCell(ch.title)}.`,
    "",
  ];
  if (diff.length === 0) {
    lines.push("The two configs are identical.");
  } else {
    lines.push(
      `The configs differ in ${
        plural(diff.length, "path")
      } (dotted config paths; everything else is the same):`,
      "",
      table(
        ["path", "this", "control"],
        diff.map((d) => [codeSpan(d.path), configValue(d.a), configValue(d.b)]),
      ),
    );
  }
  const side = (x: Outcome, hyp: Hypothesis) => {
    const runs = x.primaryPoint.runs;
    const sm = x.primaryPoint.summary;
    const tiers = [...new Set(runs.map((r) => r.tier))].join(", ");
    return {
      runs: runs.length === 0
        ? "not run yet"
        : `${runs.length} (${tiers}; ${sm.invalid} invalid)`,
      positive: sm.rate.n === 0 ? "—" : rateText("positive", sm.rate),
      C: distributionText(sm.C),
      P: distributionText(sm.P),
      expected: expectationText(hyp),
      ok: runs.length === 0 ? "—" : x.pass ? "✓" : "✗",
    };
  };
  const a = side(o, h);
  const b = side(co, ch);
  lines.push(
    "",
    "Outcomes at each hypothesis's own config:",
    "",
    table(
      ["", `this (${escapeCell(h.id)})`, `control (${escapeCell(ch.id)})`],
      [
        ["runs", a.runs, b.runs],
        ["rate", a.positive, b.positive],
        ["C", a.C, b.C],
        ["P", a.P, b.P],
        ["expected", a.expected, b.expected],
        ["ok", a.ok, b.ok],
      ],
    ),
  );
  return lines.join("\n");
}
