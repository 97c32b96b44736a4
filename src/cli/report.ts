/**
 * `deno task report [ids...]`: renders reports/<id>.md (+ SVG plots) for each
 * hypothesis from its committed run records, and the index reports/README.md.
 * Never trains: a hypothesis without records is listed as not run.
 *
 * @module
 */

import { HYPOTHESES, hypothesisById } from "../../hypotheses/mod.ts";
import { readRecord, RECORDS_DIR } from "../experiment/run.ts";
import type { Hypothesis, RunRecord, Tier } from "../experiment/types.ts";
import { writeIndex, writeReport } from "../report/write.ts";
import { parseCliArgs, runCli, UsageError } from "./errors.ts";

const HELP = `Usage: deno task report [ids...] [options]

Writes reports/<id>.md with its plots for each hypothesis (all by default)
from the run records in reports/data/, then the index reports/README.md.
Reports use the full-tier records when present, else the smoke tier's.

Options:
  --tier smoke|full   use only this tier's records
  --out DIR           output directory (default: reports)
  -h, --help          this help

Hypotheses: ${HYPOTHESES.map((h) => h.id).join(", ")}
`;

const REPORTS_DIR = new URL("../../reports", import.meta.url).pathname;

/** All records of one hypothesis at one tier, main seed first. */
export async function recordsOf(
  h: Hypothesis,
  tier: Tier,
  dir = RECORDS_DIR,
): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/${h.id}`)) {
      // Only whole-tier records (<tier>-seed<N>.json), not shortened runs.
      if (!e.isFile || !new RegExp(`^${tier}-seed\\d+\\.json$`).test(e.name)) {
        continue;
      }
      const r = await readRecord(`${dir}/${h.id}/${e.name}`);
      if (r && r.hypothesisId === h.id) runs.push(r);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return runs.sort((a, b) =>
    (a.seed === h.config.seed ? -1 : 0) - (b.seed === h.config.seed ? -1 : 0) ||
    a.seed - b.seed
  );
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
  if (
    values.tier !== undefined && values.tier !== "smoke" &&
    values.tier !== "full"
  ) {
    throw new UsageError("--tier must be one of: smoke, full");
  }
  let selected: Hypothesis[];
  try {
    selected = positionals.length
      ? positionals.map(hypothesisById)
      : [...HYPOTHESES];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const out = values.out ?? REPORTS_DIR;
  const pick = async (h: Hypothesis) => {
    if (values.tier) return await recordsOf(h, values.tier as Tier);
    const full = await recordsOf(h, "full");
    return full.length ? full : await recordsOf(h, "smoke");
  };
  for (const h of selected) {
    const runs = await pick(h);
    if (!runs.length) {
      console.log(`${h.id}: no run records (run \`deno task run ${h.id}\`)`);
      continue;
    }
    const written = await writeReport(out, h, runs);
    console.log(
      `${h.id}: ${runs[0].tier} tier, ${runs.length} run(s) -> ${
        written.join(", ")
      }`,
    );
  }
  // The index always covers every hypothesis.
  const rows = [];
  for (const h of HYPOTHESES) {
    rows.push({ hypothesis: h, runs: await pick(h), file: `${h.id}.md` });
  }
  const index = await writeIndex(out, rows);
  console.log(`index -> ${index.join(", ")}`);
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
