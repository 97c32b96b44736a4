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
import type { Tier } from "../hypothesis/types.ts";
import { isComplete } from "../hypothesis/types.ts";
import { parseCliArgs, runCli, UsageError } from "./errors.ts";
import { backendOption, tierOption, TIERS } from "./options.ts";

const HELP = `Usage: deno task record [ids...] [options]

Writes reports/data/<id>/outcomes.json (the exact C, P, populations and
verdict the CI gate holds a re-run to) from the committed run records of each
hypothesis (all by default). Review the change in the diff.

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

/** Runs `deno task record` with `args`; returns the exit code. */
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
  for (const h of selected) {
    const runs = [];
    for (const tier of tiers) {
      const points = ["", ...sweepPoints(h).map(pointLabel)];
      for (const r of await recordsOf(dir, h.id, tier, h.config.seed, points)) {
        if (backend && r.backend !== backend) continue;
        if (!isComplete(r)) {
          throw new Error(
            `${h.id} ${tier} seed ${r.seed} (${r.backend}) diverged; a diverged run has no outcome to record`,
          );
        }
        runs.push(r);
      }
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
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
