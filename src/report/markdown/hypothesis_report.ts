/**
 * The Markdown report of one hypothesis and its runs: the sections in
 * order, each written by its own module.
 *
 * @module
 */

import {
  expectationText,
  type Outcome,
  outcomeOf,
} from "../../verdict/claims.ts";
import type { RecordedOutcome } from "../../verdict/outcomes.ts";
import { rateText } from "../../verdict/rates.ts";
import {
  type Hypothesis,
  isComplete,
  type RunRecord,
} from "../../hypothesis/types.ts";
import { linkTarget } from "./blocks.ts";
import { type ControlInput, controlSection } from "./control.ts";
import { designTable } from "./design.ts";
import { codeSpan, escapeCell } from "./escape.ts";
import { formatInt, formatNumber, plural } from "./format.ts";
import { provenanceTable } from "./provenance.ts";
import { pointName, replicatesSection, sweepSection } from "./replicates.ts";
import { clustersSection, cpTable, trajectorySection } from "./run_sections.ts";
import { invalidNote, verdictBadge } from "./verdict.ts";

/** Relative file names of a report's plots. */
export interface ReportPlots {
  /** The training loss plot. */
  readonly loss: string;
  /** The plot of C and P over training. */
  readonly cp: string;
  /** The plot of the centroid norm over training. */
  readonly centroid: string;
  /** The phase diagram of a sweep (linked when given). */
  readonly phase?: string;
  /** The envelope of C and P over replicates (linked when given). */
  readonly envelope?: string;
}

/** Options of {@linkcode renderHypothesisReport}. */
export interface HypothesisReportOptions {
  /** File names of the plots the report embeds. */
  readonly plots: ReportPlots;
  /** Recorded outcomes the CI gate holds re-runs to (outcomes.json). */
  readonly outcomes?: readonly RecordedOutcome[];
  /** The control hypothesis (`hypothesis.control`) and its runs. */
  readonly control?: ControlInput;
  /**
   * Records of seeds the hypothesis does not declare (`run --seed N`):
   * named under the rate, never counted in it.
   */
  readonly adHoc?: readonly RunRecord[];
}

/**
 * The Markdown report of one hypothesis and its runs (one run, or several
 * replicate seeds). Deterministic: the same inputs give the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeHypothesis, makeRun } from "../../testing/records.ts";
 * import { renderHypothesisReport } from "./hypothesis_report.ts";
 * const md = renderHypothesisReport(makeHypothesis(), [makeRun()], {
 *   plots: { loss: "h-loss.svg", cp: "h-cp.svg", centroid: "h-centroid.svg" },
 * });
 * assert.deepEqual(md.split("\n").slice(0, 5), [
 *   "# 11.2b-jiggling: Synthetic jiggling | noise",
 *   "",
 *   "**Observed: positive** (expected: positive) ✓",
 *   "",
 *   "smoke tier · cpu · 20 of 10,000 steps · seed 42",
 * ]);
 * assert.ok(md.includes("(h-loss.svg)"));
 * ```
 */
export function renderHypothesisReport(
  h: Hypothesis,
  runs: readonly RunRecord[],
  opts: HypothesisReportOptions,
): string {
  const o = outcomeOf(h, runs);
  const run = o.primary;
  const config = run?.config ?? h.config;
  const out = headLines(h, o, config.maxSteps);
  const section = (title: string, ...body: string[]) => {
    out.push(`## ${title}`, "", ...body, "");
  };
  section("Question", h.question.trim());
  section("Background", h.background.trim());
  section("Design", h.design.trim(), "", designTable(h, config, runs, run));
  section(
    "Expected vs observed",
    ...expectedVsObserved(h, o),
    ...adHocLines(opts.adHoc ?? []),
  );
  const complete = run !== null && isComplete(run);
  if (complete) {
    section("C and P", cpTable(h, run, opts.outcomes ?? []));
    section("Clusters", clustersSection(run));
    section("Trajectory", trajectorySection(run));
  }
  const reps = replicatesSection(h, o);
  if (reps !== null) section("Replicates", reps);
  if (h.sweep?.length) section("Sweep", sweepSection(h, o, opts.plots.phase));
  if (opts.control) section("Control", controlSection(h, o, opts.control));
  const plots = plotLines(o, opts.plots, complete);
  if (plots.length) section("Plots", ...plots);
  section("Findings", h.findings?.trim() || "_No findings recorded yet._");
  if (run) section("Provenance", provenanceText(h, runs, run));
  return out.join("\n").replace(/\n+$/, "\n");
}

/** The title, the verdict badge and a line on the primary run, if any. */
function headLines(h: Hypothesis, o: Outcome, maxSteps: number): string[] {
  const run = o.primary;
  const out = [
    `# ${h.id}: ${h.title.replace(/\r?\n/g, " ")}`,
    "",
    verdictBadge(h, o),
  ];
  if (run) {
    out.push(
      "",
      `${run.tier} tier · ${escapeCell(run.backend)} · ${
        formatInt(run.steps)
      } of ${formatInt(maxSteps)} steps · seed ${run.seed}${
        run.overrides.length
          ? ` · ${run.overrides.map(codeSpan).join(" ")}`
          : ""
      }`,
    );
  }
  out.push("");
  return out;
}

/**
 * The body of "Expected vs observed": the expectation, what the primary run
 * showed, the rate at its own config, the rule when it is not the primary
 * run alone, and whether they agree.
 */
function expectedVsObserved(h: Hypothesis, o: Outcome): string[] {
  const run = o.primary;
  const rate = run
    ? [
      "",
      `**Rate:** ${rateText(o.claimVerdict, o.claim.rate)} at ${
        o.primaryPoint.label === ""
          ? "the hypothesis's own config"
          : `its own config (${pointName(o.primaryPoint)})`
      }${invalidNote(o.primaryPoint.runs)}.`,
    ]
    : [];
  const rule = o.rules.includes("primary") ? [] : ruleLines(h, o);
  const match = run
    ? (o.pass
      ? "✓ The observation agrees with the expectation."
      : "✗ The observation does not agree with the expectation.")
    : "";
  return [
    `**Expected:** ${expectationText(h)}. ${h.expectation.reasoning.trim()}`,
    "",
    observedLine(run),
    ...rate,
    ...rule,
    ...(match ? ["", match] : []),
  ];
}

/** The ad-hoc runs left out of every rate, if any (none: no line). */
function adHocLines(runs: readonly RunRecord[]): string[] {
  if (!runs.length) return [];
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  return [
    "",
    `And ${plural(runs.length, "ad-hoc run")} not counted (${
      seeds.length === 1 ? "seed" : "seeds"
    } ${
      seeds.join(", ")
    }, which the hypothesis does not declare; \`deno task run --seed N\`).`,
  ];
}

/** What the primary run showed: its verdict, or why it has none. */
function observedLine(run: RunRecord | null): string {
  return !run
    ? "**Observed:** not run yet."
    : isComplete(run)
    ? `**Observed:** ${run.verdict}: C = ${run.final.C}, P = ${run.final.P} after ${
      formatInt(run.steps)
    } steps (${run.tier} tier, ${escapeCell(run.backend)}, seed ${run.seed}).`
    : `**Observed:** invalid: the run with seed ${run.seed} diverged at step ${
      formatInt(run.divergence?.step ?? 0)
    } (${run.divergence?.quantity ?? "?"} ${
      String(run.divergence?.value)
    }; ${run.tier} tier, ${
      escapeCell(run.backend)
    }). A diverged run earns no verdict: its embedding says nothing about black holes.`;
}

/** The rule a rate or boundary expectation is judged by, and its checks. */
function ruleLines(h: Hypothesis, o: Outcome): string[] {
  return [
    "",
    `**Rule:** ✓ when ${
      o.rules.map((r) =>
        r === "rate"
          ? `at least ${
            Math.round(h.expectation.rate!.atLeast * 100)
          }% of the completed runs at its own config are ${
            h.expectation.rate!.verdict
          }`
          : `every swept ${
            codeSpan(h.expectation.boundary!.path)
          } at or below ${
            formatNumber(h.expectation.boundary!.nullAtOrBelow)
          } has a null majority and every one at or above ${
            formatNumber(h.expectation.boundary!.positiveAtOrAbove)
          } a positive majority`
      ).join(", and ")
    }.`,
    "",
    ...o.checks.map((c) => `- ${c.ok ? "✓" : "✗"} ${c.text}`),
  ];
}

/**
 * The body of "Plots": the primary run's plots when it completed, and the
 * envelope across replicates when there is one.
 */
function plotLines(
  o: Outcome,
  files: ReportPlots,
  complete: boolean,
): string[] {
  const plots: string[] = [];
  if (complete) {
    plots.push(
      `![Training loss](${linkTarget(files.loss)})`,
      "",
      `![C and P over training](${linkTarget(files.cp)})`,
      "",
      `![Centroid norm over training](${linkTarget(files.centroid)})`,
    );
  }
  if (files.envelope) {
    if (plots.length) plots.push("");
    plots.push(
      `C and P over training across the ${
        plural(o.primaryPoint.summary.C.n, "completed run")
      } at its own config: min–max band and median line per recorded step.`,
      "",
      `![C and P across replicates](${linkTarget(files.envelope)})`,
    );
  }
  return plots;
}

/** The primary run's provenance, saying how the other runs differ. */
function provenanceText(
  h: Hypothesis,
  runs: readonly RunRecord[],
  run: RunRecord,
): string {
  return runs.length > 1
    ? `Of the run with seed ${run.seed}${
      run.overrides.length ? " at its own config" : ""
    }; the other runs differ in seed${
      h.sweep?.length ? " or sweep point" : ""
    } (and cache key).\n\n${provenanceTable(run)}`
    : provenanceTable(run);
}
