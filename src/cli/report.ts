/**
 * `deno task report [ids...]`: renders reports/<id>.md (+ SVG plots) for each
 * hypothesis from its committed run records (every replicate seed at every
 * sweep point), and the index reports/README.md. Never trains: a hypothesis
 * without records is listed as not run. A malformed record is an error
 * naming its file, never a silent fall-back to another tier.
 *
 * @module
 */

import { selectHypotheses } from "./hypothesis_args.ts";
import { HYPOTHESES, hypothesisById } from "../../hypotheses/mod.ts";
import { readOutcomes } from "../verdict/outcomes.ts";
import { splitDeclared } from "../verdict/declared.ts";
import { pointLabel, sweepPoints } from "../hypothesis/grid.ts";
import { recordsOf } from "../history/records.ts";
import { RECORDS_DIR } from "../history/locations.ts";
import type { Hypothesis, RunRecord, Tier } from "../hypothesis/types.ts";
import { checkOutputDir, OutputLocationError } from "../io/output_location.ts";
import {
  checkReportTargets,
  ReportOverwriteError,
  writeIndex,
  writeReport,
} from "../report/write.ts";
import { parseCliArgs, runCli, UsageError } from "./errors.ts";
import { tierOption } from "./options.ts";

const HELP = `Usage: deno task report [ids...] [options]

Writes reports/<id>.md with its plots for each hypothesis (all by default)
from the run records in reports/data/ (every replicate seed at every sweep
point; a hypothesis with a control is shown beside the control's records),
then the index reports/README.md. Reports use the full-tier records when the
hypothesis has any, else the smoke tier's. A malformed record stops the
report with its path. A file in the output directory that is not a report
this command wrote (a project's own README.md) is never replaced: the
command stops before writing anything, naming it.

Options:
  --tier smoke|full   use only this tier's records
  --out DIR           output directory (default: reports)
  -h, --help          this help

Hypotheses: ${HYPOTHESES.map((h) => h.id).join(", ")}
`;

const REPORTS_DIR = new URL("../../reports", import.meta.url).pathname;

/**
 * The sweep point labels whose records a report reads: every point of the
 * sweep, and the unmodified config (`""`; the only one without a sweep).
 */
export function reportPoints(h: Hypothesis): string[] {
  return [...new Set(["", ...sweepPoints(h).map(pointLabel)])];
}

/**
 * The records a report is made of, at every sweep point: the given tier's,
 * or the full tier's when there are any, else the smoke tier's.
 */
export async function reportRecords(
  h: Hypothesis,
  tier: Tier | undefined,
  dir = RECORDS_DIR,
): Promise<RunRecord[]> {
  const points = reportPoints(h);
  if (tier) return await recordsOf(dir, h.id, tier, h.config.seed, points);
  const full = await recordsOf(dir, h.id, "full", h.config.seed, points);
  return full.length
    ? full
    : await recordsOf(dir, h.id, "smoke", h.config.seed, points);
}

export async function main(args: string[]): Promise<number> {
  const parsed = parseCliArgs(args, {
    tier: { type: "string" },
    out: { type: "string" },
  }, true);
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const tier = tierOption(values.tier);
  const selected = selectHypotheses(positionals);
  const out = values.out ?? REPORTS_DIR;
  try {
    await checkOutputDir(out, { what: "--out" });
  } catch (e) {
    if (e instanceof OutputLocationError) throw new UsageError(e.message);
    throw e;
  }
  for (const h of selected) {
    if (
      h.control !== undefined && !HYPOTHESES.some((c) => c.id === h.control)
    ) {
      throw new UsageError(
        `hypothesis ${h.id} names control ${
          JSON.stringify(h.control)
        }, which is not a hypothesis`,
      );
    }
  }
  try {
    await checkReportTargets(out, selected.map((h) => h.id));
  } catch (e) {
    if (e instanceof ReportOverwriteError) throw new UsageError(e.message);
    throw e;
  }
  // Read every record first: a malformed one stops the command before any
  // report is rewritten.
  // Rates count only the seeds a hypothesis declares; ad-hoc runs (`run
  // --seed N`) are told apart.
  const all = new Map<string, RunRecord[]>();
  const adHoc = new Map<string, RunRecord[]>();
  for (const h of HYPOTHESES) {
    const split = splitDeclared(h, await reportRecords(h, tier));
    all.set(h.id, split.declared);
    adHoc.set(h.id, split.adHoc);
  }
  for (const h of selected) {
    const runs = all.get(h.id)!;
    const extra = adHoc.get(h.id)!.length;
    if (!runs.length) {
      console.log(`${h.id}: no run records (run \`deno task run ${h.id}\`)`);
      continue;
    }
    const outcomes = await readOutcomes(RECORDS_DIR, h.id);
    let control;
    if (h.control !== undefined) {
      const c = hypothesisById(h.control);
      // The control at the same tier as this report, so like is compared
      // with like (its own choice when it has no records of that tier).
      const same = splitDeclared(c, await reportRecords(c, runs[0].tier))
        .declared;
      control = {
        hypothesis: c,
        runs: same.length ? same : all.get(c.id)!,
      };
    }
    const written = await writeReport(out, h, runs, {
      outcomes,
      ...(control ? { control } : {}),
      ...(extra ? { adHoc: adHoc.get(h.id)! } : {}),
    });
    console.log(
      `${h.id}: ${runs[0].tier} tier, ${runs.length} run(s)${
        extra ? ` and ${extra} ad-hoc run(s) not counted` : ""
      } -> ${written.join(", ")}`,
    );
  }
  // The index always covers every hypothesis.
  const rows = HYPOTHESES.map((h) => ({
    hypothesis: h,
    runs: all.get(h.id)!,
    file: `${h.id}.md`,
  }));
  const index = await writeIndex(out, rows);
  console.log(`index -> ${index.join(", ")}`);
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
