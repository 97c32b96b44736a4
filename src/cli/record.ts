/**
 * `deno task record [ids...] [--tier smoke|full] [--backend NAME]`: writes
 * the outcomes the CI gate holds each hypothesis to
 * (`reports/data/<id>/outcomes.json`) from its committed run records. The
 * only writer of that file: review its diff like a snapshot update.
 *
 * @module
 */

import { selectHypotheses } from "./hypothesis_args.ts";
import { writeOutcomes } from "../verdict/outcomes.ts";
import { pointLabel, sweepPoints } from "../hypothesis/grid.ts";
import { recordsOf } from "../history/records.ts";
import { RECORDS_DIR } from "../history/locations.ts";
import type { RunRecord, Tier } from "../hypothesis/types.ts";
import { isComplete } from "../hypothesis/types.ts";
import { parseCliArgs, runCli, UsageError } from "./errors.ts";
import { divergenceText } from "../runtime/divergence.ts";
import { backendOption, tierOption, TIERS } from "./options.ts";

const HELP = `Usage: deno task record [ids...] [options]

Writes reports/data/<id>/outcomes.json (the exact C, P, populations and
verdict the CI gate holds a re-run to) from the committed run records of each
hypothesis (all by default). Review the change in the diff.

A diverged run record is an error, not an outcome: its hypothesis's file is
left unchanged, the others are written, and the exit code is 1.

Options:
  --tier smoke|full     only this tier (default: both)
  --backend NAME        only this backend's records (cpu, wasm, webgpu)
  --dir DIR             records directory (default: reports/data)
  -h, --help            this help
`;

/**
 * `--dir` must be a directory: a missing one would read as "no run records"
 * for every hypothesis (exit 0), a file as a raw OS error.
 */
async function checkRecordsDir(dir: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`--dir ${dir} does not exist`);
    }
    throw new UsageError(
      `--dir ${dir} cannot be read (${(e as Error).message})`,
    );
  }
  if (!info.isDirectory) {
    throw new UsageError(`--dir ${dir} is not a directory`);
  }
}

/** One line naming a diverged run: where and in what it diverged. */
function divergedLine(id: string, r: RunRecord): string {
  const variant = r.overrides.length ? ` ${r.overrides.join(" ")}` : "";
  // checkRecord guarantees a diverged record names its divergence.
  return `${id} ${r.tier} seed ${r.seed}${variant} (${r.backend}) ${
    divergenceText(r.divergence!)
  }`;
}

/**
 * Runs `deno task record` with `args`; returns the exit code: 1 when any
 * selected hypothesis has a diverged run record (named on stderr; the other
 * hypotheses are still recorded).
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(args, {
    tier: { type: "string" },
    backend: { type: "string" },
    dir: { type: "string" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const tier = tierOption(values.tier);
  const tiers: readonly Tier[] = tier === undefined ? TIERS : [tier];
  const backend = backendOption(values.backend);
  const selected = selectHypotheses(positionals);
  const dir = values.dir ?? RECORDS_DIR;
  await checkRecordsDir(dir);
  let invalid = 0;
  for (const h of selected) {
    const runs = [];
    const diverged: string[] = [];
    for (const tier of tiers) {
      const points = ["", ...sweepPoints(h).map(pointLabel)];
      for (const r of await recordsOf(dir, h.id, tier, h.config.seed, points)) {
        if (backend && r.backend !== backend) continue;
        if (isComplete(r)) runs.push(r);
        else diverged.push(divergedLine(h.id, r));
      }
    }
    // Outcomes without a diverged run would read as a smaller, clean
    // replicate set: the file is left as it was until the run is redone.
    if (diverged.length > 0) {
      for (const line of diverged) console.error(`error: ${line}`);
      console.error(
        `${h.id}: outcomes.json left unchanged (a diverged run has no outcome to record; re-run it or remove its record)`,
      );
      invalid += diverged.length;
      continue;
    }
    if (runs.length === 0) {
      console.log(`${h.id}: no run records to record`);
      continue;
    }
    const changes = await writeOutcomes(dir, h.id, runs);
    console.log(
      changes.length
        ? changes.join("\n")
        : `${h.id}: ${runs.length} outcome(s) unchanged`,
    );
  }
  if (invalid > 0) {
    console.error(`error: ${invalid} diverged run record(s)`);
    return 1;
  }
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
