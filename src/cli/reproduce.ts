/**
 * `deno task reproduce`: what a reader runs first. Renders every report from
 * the committed records, verifies the records by re-running each
 * hypothesis's smoke tier (its own seed, on cpu, in a temporary folder) and
 * comparing every number with the committed smoke record, then lists what
 * is declared but not recorded yet, with the command and an estimated time.
 * It never starts a full-tier run: `--full` computes what is missing (the
 * former default: every hypothesis, its replicates and sweep points;
 * resumable, recorded runs are reused).
 *
 * @module
 */

import { HYPOTHESES } from "../../hypotheses/mod.ts";
import { prepareRun, tierSteps } from "../run/prepare.ts";
import { runHypothesis } from "../run/run.ts";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";
import { intOption, parseCliArgs, runCli, UsageError } from "./errors.ts";
import { selectHypotheses } from "./hypothesis_args.ts";
import { backendOption, tierOption } from "./options.ts";
import { main as sweep } from "./sweep.ts";
import { progressReporter } from "./progress.ts";
import { main as report } from "./report.ts";
import { stoppedExitCode, stopSignal } from "../process/lifeline.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { readRecord, recordPath } from "../history/records.ts";
import { RECORDS_DIR } from "../history/locations.ts";
import { planRuns, type RunSpec } from "../executor/plan.ts";
import { runPool } from "../executor/pool.ts";
import { isRunEnd, type RunEnd } from "../executor/events.ts";
import { firstDifference } from "../gate/reproduced.ts";

const HELP = `Usage: deno task reproduce [ids...] [--workers N]
       deno task reproduce --full [--tier full|smoke] [--backend NAME] [--workers N] [--own-only]

Without --full (a few minutes; never trains a full-tier run):
  1. renders reports/<id>.md and reports/README.md from the committed records
     (as \`deno task report\`);
  2. verifies them: re-runs each hypothesis's smoke tier (its own seed, cpu,
     N parallel workers, in a temporary folder: nothing under reports/ is
     written) and compares the loss and gradient-norm curves, C, P, the
     populations, the final embedding and the verdict bit for bit with the
     committed smoke record; a mismatch exits 1 naming the hypothesis and the
     first number that differs;
  3. lists every declared run not recorded yet (own smoke run, full-tier
     replicates and sweep points) with the command that computes it and an
     estimated time (from this machine's measured ms per step).
Ids restrict all three to those hypotheses.

With --full: computes what is missing. Runs every hypothesis at the tier,
then its replicate seeds and sweep points (\`deno task sweep\`, on N local
workers), and writes the reports; every run already recorded under the same
run key is reused, and a stopped run resumes from its checkpoint. From
scratch this is hours of CPU.

Options:
  --workers N         parallel processes (default: the number of cores; --full: 1)
  --full              compute every declared run that is not recorded
  --tier full|smoke   with --full: the tier (default full)
  --backend NAME      with --full: auto (default), cpu, wasm or webgpu
  --own-only          with --full: only each hypothesis's own run
  -h, --help          this help
`;

/** What tests change; the defaults are the project's own. */
export interface ReproduceOptions {
  /** The hypotheses (default: `hypotheses/mod.ts`'s). */
  readonly hypotheses?: readonly Hypothesis[];
  /** The committed records (default `reports/data`). */
  readonly recordsDir?: string;
  /** A module the pool's jobs find extra hypotheses in (see `JobOptions`). */
  readonly hypothesesModule?: string;
  /** Renders the reports (default: `deno task report`'s main). */
  readonly report?: (args: string[]) => Promise<number>;
}

/** Runs `deno task reproduce` with `args`; returns the exit code. */
export async function main(
  args: string[],
  options: ReproduceOptions = {},
): Promise<number> {
  const { values, positionals: ids } = parseCliArgs(args, {
    tier: { type: "string" },
    backend: { type: "string" },
    workers: { type: "string" },
    "own-only": { type: "boolean" },
    full: { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  // parseArgs types the positionals of an options object it cannot see as never.
  const positionals = ids as string[];
  const workers = intOption("workers", values.workers, { min: 1, max: 64 });
  if (values.full) {
    if (positionals.length) {
      throw new UsageError("--full runs every hypothesis; name no ids");
    }
    return await full({
      tier: values.tier,
      backend: values.backend,
      workers: workers ?? 1,
      ownOnly: values["own-only"] ?? false,
      render: options.report ?? report,
    });
  }
  for (const flag of ["tier", "backend", "own-only"] as const) {
    if (values[flag] !== undefined) {
      throw new UsageError(`--${flag} goes with --full`);
    }
  }
  const hypotheses = options.hypotheses
    ? options.hypotheses.filter((h) =>
      !positionals.length || positionals.includes(h.id)
    )
    : selectHypotheses(positionals);
  const recordsDir = options.recordsDir ?? RECORDS_DIR;
  const rendered = await (options.report ?? report)(positionals);
  if (rendered !== 0) return rendered;
  const verified = await verify(hypotheses, {
    recordsDir,
    workers: workers ?? (navigator.hardwareConcurrency || 1),
    hypothesesModule: options.hypothesesModule,
  });
  if (verified.stopped) return stoppedExitCode();
  await listMissing(hypotheses, { recordsDir, msPerStep: verified.msPerStep });
  if (verified.failures.length) {
    for (const f of verified.failures) console.error(`error: ${f}`);
    return 1;
  }
  return 0;
}

/** What {@link verify} found. */
interface Verified {
  /** One line per hypothesis that did not reproduce. */
  readonly failures: string[];
  /** Measured ms per smoke step of each verified hypothesis. */
  readonly msPerStep: Map<string, number>;
  /** Whether a signal stopped it. */
  readonly stopped: boolean;
}

/**
 * Re-runs each hypothesis's committed own-seed smoke run on a pool of
 * workers, into a temporary folder, and compares it with the committed one.
 */
async function verify(
  hypotheses: readonly Hypothesis[],
  options: {
    readonly recordsDir: string;
    readonly workers: number;
    readonly hypothesesModule?: string;
  },
): Promise<Verified> {
  const failures: string[] = [];
  const msPerStep = new Map<string, number>();
  const tmp = await Deno.makeTempDir({ prefix: "horizon_reproduce_" });
  try {
    const committed = new Map<string, RunRecord>();
    const specs: RunSpec[] = [];
    for (const h of hypotheses) {
      const name = {
        hypothesisId: h.id,
        tier: "smoke" as const,
        seed: h.config.seed,
        backend: "cpu" as const,
      };
      const record = await readRecord(recordPath(options.recordsDir, name));
      if (!record) continue; // listed as missing afterwards
      committed.set(h.id, record);
      const p = await prepareRun(h, {
        tier: "smoke",
        backend: "cpu",
        recordsDir: `${tmp}/records`,
      });
      specs.push({ ...name, overrides: [], key: p.key });
    }
    if (!specs.length) return { failures, msPerStep, stopped: false };
    // Longest first (by the committed run's CPU time), so the workers end
    // together instead of one finishing the slowest run alone.
    const cost = (s: RunSpec) => {
      const r = committed.get(s.hypothesisId)!;
      return r.wallMs * (r.threads ?? 1);
    };
    specs.sort((a, b) => cost(b) - cost(a));
    const workers = Math.min(options.workers, specs.length);
    const expectedS = specs.reduce(
      (s, spec) => s + committed.get(spec.hypothesisId)!.wallMs / 1000,
      0,
    ) / workers;
    console.log(
      `verifying ${specs.length} smoke run(s) against the committed records on ${workers} worker(s) (about ${
        duration(expectedS)
      })`,
    );
    const signal = stopSignal();
    const shown = new Map<string, number>();
    await runPool(specs, {
      workers,
      recordsDir: `${tmp}/records`,
      cacheDir: `${tmp}/cache`,
      checkpointEvery: 0,
      hypothesesModule: options.hypothesesModule,
      signal,
      onEvent: (e) => {
        const id = e.spec.hypothesisId;
        if (e.type === "started") {
          console.error(`  ${id}: smoke run started`);
        } else if (e.type === "progress") {
          // Every 100 steps (a job reports steps in windows, not one by one).
          const hundreds = Math.floor(e.step / 100);
          if (hundreds > (shown.get(id) ?? 0)) {
            shown.set(id, hundreds);
            console.error(`  ${id}: step ${e.step}/${e.steps}`);
          }
        } else if (isRunEnd(e) && !signal.aborted) {
          const result = checkEnd(e, committed.get(id)!);
          if (result.ok) msPerStep.set(id, result.msPerStep);
          else failures.push(`${id}: ${result.problem}`);
        }
      },
    });
    return { failures, msPerStep, stopped: signal.aborted };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Whether one verification run reproduced its committed record. */
function checkEnd(
  end: RunEnd,
  committed: RunRecord,
):
  | { readonly ok: true; readonly msPerStep: number }
  | { readonly ok: false; readonly problem: string } {
  const id = end.spec.hypothesisId;
  if (end.type !== "finished") {
    const problem = `the smoke run ${end.type}: ${end.message}`;
    console.log(`${id}: NOT verified (${problem})`);
    return { ok: false, problem };
  }
  const fresh = end.record;
  const difference = firstDifference(committed, fresh);
  if (difference) {
    const problem =
      `does not reproduce its committed smoke record: ${difference}`;
    console.log(`${id}: MISMATCH, ${difference}`);
    return { ok: false, problem };
  }
  const f = fresh.final;
  console.log(
    `${id}: reproduced bit for bit (${fresh.steps} steps: losses, C=${f?.C} P=${f?.P}, verdict ${fresh.verdict}; ${
      (fresh.wallMs / 1000).toFixed(0)
    } s)${
      fresh.key === committed.key
        ? ""
        : " (note: the committed record's run key is stale; deno task rekey)"
    }`,
  );
  return { ok: true, msPerStep: fresh.wallMs / fresh.steps };
}

/**
 * Prints every declared run without a record (the own smoke run, and the
 * full tier's replicate seeds and sweep points on cpu) with its command and
 * an estimated time on one worker.
 */
async function listMissing(
  hypotheses: readonly Hypothesis[],
  options: {
    readonly recordsDir: string;
    readonly msPerStep: ReadonlyMap<string, number>;
  },
): Promise<void> {
  const lines: string[] = [];
  let totalS = 0;
  for (const h of hypotheses) {
    // Unverified: the committed smoke run's pace, else the seeds' model's.
    const smoke = await readRecord(recordPath(options.recordsDir, {
      hypothesisId: h.id,
      tier: "smoke",
      seed: h.config.seed,
      backend: "cpu",
    }));
    const ms = options.msPerStep.get(h.id) ??
      (smoke ? smoke.wallMs / smoke.steps : DEFAULT_MS_PER_STEP);
    if (!smoke) {
      const s = tierSteps(h, "smoke") * ms / 1000;
      lines.push(
        `${h.id}: its smoke run (~${
          duration(s)
        }): deno task run ${h.id} --tier smoke && deno task record ${h.id} --tier smoke`,
      );
    }
    const plan = await planRuns(h, {
      tier: "full",
      backend: "cpu",
      recordsDir: options.recordsDir,
    });
    const missing = plan.filter((r) => !r.record).length;
    if (missing) {
      const s = missing * tierSteps(h, "full") * ms / 1000;
      totalS += s;
      lines.push(
        `${h.id}: ${missing} of ${plan.length} full-tier runs (~${
          duration(s)
        } on one worker): deno task sweep ${h.id} --tier full`,
      );
    }
  }
  if (!lines.length) {
    console.log("every declared run is recorded");
    return;
  }
  console.log("declared but not recorded yet (cpu):");
  for (const line of lines) console.log(`  ${line}`);
  console.log(
    `all of it: deno task reproduce --full --workers N (resumable; ~${
      duration(totalS)
    } of one worker's time, shared by the N workers)`,
  );
}

/** ms per step of the seeds' model on one cpu thread, when nothing is measured. */
const DEFAULT_MS_PER_STEP = 150;

/** `s` seconds as `45 s`, `12 min` or `3.4 h`. */
function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** `--full`: every declared run at the tier, then the reports. */
async function full(options: {
  readonly tier?: string;
  readonly backend?: string;
  readonly workers: number;
  readonly ownOnly: boolean;
  readonly render: (args: string[]) => Promise<number>;
}): Promise<number> {
  const tier = tierOption(options.tier) ?? "full";
  const backend = backendOption(options.backend, { auto: true }) ?? "auto";
  const signal = stopSignal();
  let diverged = 0;
  for (const h of HYPOTHESES) {
    let r;
    try {
      r = await runHypothesis(h, {
        tier,
        backend,
        signal,
        onNote: (note) => console.error(`note: ${note}`),
        onStep: progressReporter(
          `${h.id} ${tier} (${tierSteps(h, tier)} steps)`,
        ),
      });
    } catch (e) {
      if (!(e instanceof DivergedError)) throw e;
      diverged++;
      console.error(`${h.id}: invalid, ${e.message}`);
      continue;
    }
    console.log(
      `${h.id} [${r.backend}]: C=${r.final?.C} P=${r.final?.P} verdict=${r.verdict} (expected ${h.expectation.verdict})`,
    );
  }
  let failedSweeps = 0;
  if (!options.ownOnly) {
    for (const h of HYPOTHESES) {
      if (!h.replicates && !h.sweep) continue;
      const code = await sweep([
        h.id,
        "--tier",
        tier,
        "--backend",
        backend,
        "--workers",
        String(options.workers),
      ]);
      if (code === 130 || code === stoppedExitCode()) {
        return stoppedExitCode();
      }
      if (code !== 0) failedSweeps++;
    }
  }
  const reported = await options.render(
    tier === "smoke" ? ["--tier", "smoke"] : [],
  );
  if (failedSweeps > 0) {
    console.error(`error: ${failedSweeps} sweep(s) had failed runs`);
    return 1;
  }
  if (diverged > 0) {
    console.error(`error: ${diverged} run(s) diverged (reported as invalid)`);
    return 1;
  }
  return reported;
}

if (import.meta.main) await runCli(() => main(Deno.args));
