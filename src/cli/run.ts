/**
 * `deno task run <hypothesis-id> [options]`: trains one hypothesis and writes
 * its run record (and embedding history). See `--help`.
 *
 * @module
 */

import { oneHypothesis } from "./hypothesis_args.ts";
import { HYPOTHESES } from "../../hypotheses/mod.ts";
import { type Override, parseOverride } from "../hypothesis/overrides.ts";
import { CACHE_DIR } from "../history/locations.ts";
import { type PreparedRun, prepareRun, tierSteps } from "../run/prepare.ts";
import type { Hypothesis, Tier } from "../hypothesis/types.ts";
import {
  runHypothesisDetailed,
  type RunOutcome,
  RunStoppedError,
} from "../run/run.ts";
import type { RunOptions } from "../run/run_options.ts";
import { CorpusError } from "../data/corpus.ts";
import { checkOutputDir, OutputLocationError } from "../io/output_location.ts";
import { sweepStaleTemps } from "../io/temp_files.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { ConfigError } from "../step/validate.ts";
import {
  intOption,
  parseCliArgs,
  runCli,
  threadsOption,
  UsageError,
} from "./errors.ts";
import { backendOption, tierOption } from "./options.ts";
import { stoppedExitCode, stopSignal } from "../process/lifeline.ts";
import { progressReporter } from "./progress.ts";
import { checkpointPath, fileCheckpointStore } from "../history/checkpoint.ts";
import { dirname } from "node:path";

const HELP = `Usage: deno task run <hypothesis-id> [options]

Trains a hypothesis, analyses its black holes and writes its run record to
reports/data/<id>/<tier>-seed<seed>-<backend>.json (embedding history under
.cache/history/). A run whose key matches an existing record is not retrained:
the key hashes the effective config, steps, corpus bytes, compiled step graph,
host-side streams, backend, onnxruntime version and analysis version.

Options:
  --tier smoke|full     smoke: the first steps of the run (default); full: all steps
  --steps N             run only the first N steps (overrides the tier)
  --backend NAME        auto (default), cpu, wasm or webgpu
  --seed N              replicate seed (default: the hypothesis's seed)
  --set PATH=VALUE      change one config value, e.g. --set adamw.lr=3e-4
                        --set noise.scale=1e-7 (repeatable; dotted config paths)
  --corpus FILE         train on another byte corpus (checked like the fixture)
  --out DIR             where run records go (default: reports/data, or
                        .cache/records for a run with --set or --corpus)
  --threads N           cpu backend threads (1..cores; default: all cores)
  --trace               also export a replay trace (.cache/traces/); retrains
                        a recorded run, as --force
  --force               retrain even if a matching record exists
  --checkpoint-every K  save a checkpoint every K steps (default 250; 0: none);
                        a stopped or killed run resumes from it when run again
  -h, --help            this help

A run that diverges (NaN/Inf loss, gradient norm or parameter, or a loss above
10 ln(vocab)) stops at that step and exits 1; its record says "diverged" and
its verdict is "invalid". Ctrl-C, SIGTERM, or killing the process that started
the run stop it after the current step; nothing is recorded.

The same run started twice at once trains once: the second waits for the
first and takes its record (or resumes its checkpoint if the first was
killed). A run whose history, checkpoint and record would not fit on disk is
refused before it trains.

Hypotheses: ${HYPOTHESES.map((h) => h.id).join(", ")}
`;

/** Steps between checkpoints (1.5 MB each for the seeds' model). */
const DEFAULT_CHECKPOINT_EVERY = 250;

/** Runs `fn`, turning a user's config, corpus or output mistake into exit 2. */
async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (
      e instanceof ConfigError || e instanceof CorpusError ||
      e instanceof OutputLocationError
    ) {
      throw new UsageError(e.message);
    }
    throw e;
  }
}

/** The run the command line asks for, checked before anything trains. */
interface RunRequest {
  readonly h: Hypothesis;
  readonly options: RunOptions;
  readonly checkpointEvery: number;
  readonly force: boolean;
}

/** Parses and checks the flags; null after printing `--help`. */
function parseRunArgs(args: string[]): RunRequest | null {
  const { values, positionals } = parseCliArgs(args, {
    tier: { type: "string" },
    steps: { type: "string" },
    backend: { type: "string" },
    seed: { type: "string" },
    set: { type: "string", multiple: true },
    corpus: { type: "string" },
    out: { type: "string" },
    threads: { type: "string" },
    trace: { type: "boolean" },
    force: { type: "boolean" },
    "checkpoint-every": { type: "string" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return null;
  }
  const h = oneHypothesis(positionals);
  const tier = tierOption(values.tier) ?? "smoke";
  const backend = backendOption(values.backend, { auto: true }) ?? "auto";
  const seed = intOption("seed", values.seed, { min: 0 });
  const threads = threadsOption(values.threads);
  let overrides: Override[];
  try {
    overrides = (values.set ?? []).map(parseOverride);
  } catch (e) {
    throw new UsageError(`--set: ${(e as Error).message}`);
  }
  // --steps is bounded by the effective config's schedule.
  const maxSteps = overrides.find((o) => o.path === "maxSteps")?.value;
  const steps = intOption("steps", values.steps, {
    min: 1,
    max: typeof maxSteps === "number" ? maxSteps : h.config.maxSteps,
  });
  if (values.corpus === "") throw new UsageError("--corpus must not be empty");
  if (values.out === "") throw new UsageError("--out must not be empty");
  const checkpointEvery = values.trace
    ? 0
    : intOption("checkpoint-every", values["checkpoint-every"], { min: 0 }) ??
      DEFAULT_CHECKPOINT_EVERY;
  const options: RunOptions = {
    tier,
    steps,
    seed,
    backend,
    threads,
    overrides,
    corpusPath: values.corpus,
    trace: values.trace,
    // A trace is exported while training: a run answered from the cache
    // would export none, so --trace retrains like --force.
    useCache: !values.force && !values.trace,
    recordsDir: values.out,
    signal: stopSignal(),
    onNote: (note) => console.error(`note: ${note}`),
  };
  return { h, options, checkpointEvery, force: values.force === true };
}

/**
 * Everything that can be wrong with the request, found before training:
 * config, corpus, backend, and where the outputs go.
 */
async function prepareChecked(
  h: Hypothesis,
  options: RunOptions,
): Promise<PreparedRun> {
  const prepared = await asUsage(async () => {
    const p = await prepareRun(h, options);
    await checkOutputDir(dirname(p.recordFile), { what: "records directory" });
    await checkOutputDir(`${CACHE_DIR}/history`, {
      what: "history directory",
    });
    return p;
  });
  await sweepStaleTemps(`${CACHE_DIR}/history`);
  await sweepStaleTemps(dirname(prepared.recordFile));
  return prepared;
}

/** The options with a checkpoint file under the cache, unless disabled. */
function withCheckpoints(
  options: RunOptions,
  key: string,
  every: number,
): RunOptions {
  if (every <= 0) return options;
  const store = fileCheckpointStore(checkpointPath(key));
  return { ...options, checkpoints: { store, every } };
}

/** The exit status and message of a run that ended without a record. */
function endedEarly(
  e: unknown,
  recordFile: string,
  checkpointEvery: number,
): number {
  if (e instanceof DivergedError) {
    console.error(`error: ${e.message}; recorded as invalid in ${recordFile}`);
    return 1;
  }
  if (e instanceof RunStoppedError) {
    const resumable = checkpointEvery > 0 && e.stepsRun >= checkpointEvery;
    console.error(
      `stopped: ${e.message}${
        resumable
          ? `; the same command resumes from step ${
            Math.floor(e.stepsRun / checkpointEvery) * checkpointEvery
          }`
          : ""
      }`,
    );
    return stoppedExitCode();
  }
  throw e;
}

/** The one-line summary of a finished run. */
function summaryLine(
  h: Hypothesis,
  tier: Tier,
  outcome: RunOutcome,
): string {
  const record = outcome.record;
  const f = record.final!;
  const variant = record.overrides.length
    ? ` with ${record.overrides.join(" ")}`
    : "";
  return `${h.id} [${tier}, ${record.steps} steps, ${record.backend}${variant}] ` +
    `C=${f.C} P=${f.P} populations=${
      f.clusters.map((c) => c.population).join("/") || "-"
    } ` +
    `verdict=${record.verdict} (expected ${h.expectation.verdict}) ` +
    `final loss=${record.loss.at(-1)?.toFixed(4)} wall=${
      (record.wallMs / 1000).toFixed(1)
    }s -> ${outcome.path}${
      outcome.cached ? " (cached: same run key; --force retrains)" : ""
    }`;
}

export async function main(args: string[]): Promise<number> {
  const request = parseRunArgs(args);
  if (request === null) return 0;
  const { h, options, checkpointEvery } = request;
  const tier = options.tier ?? "smoke";
  const prepared = await prepareChecked(h, options);
  const runOptions = withCheckpoints(options, prepared.key, checkpointEvery);
  const total = options.steps ?? tierSteps(h, tier);
  const label = `${h.id} ${tier} ${prepared.name.backend}`;
  const progress = progressReporter(`${label} (${total} steps)`);
  let outcome: RunOutcome;
  try {
    outcome = await runHypothesisDetailed(h, {
      ...runOptions,
      onStep: progress,
    });
  } catch (e) {
    return endedEarly(e, prepared.recordFile, checkpointEvery);
  }
  console.log(summaryLine(h, tier, outcome));
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
