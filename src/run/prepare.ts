/**
 * Everything about a run that is decided before it trains: the effective
 * config (replicate seed, then overrides), the step count of the tier, the
 * corpus, the backend, the run key and where the record goes. A run that
 * cannot start fails here, before any training.
 *
 * @module
 */

import { loadCorpus } from "../data/corpus.ts";
import {
  type BackendChoice,
  selectBackend,
  usableBackend,
} from "../runtime/backend.ts";
import { stepConfigOf, type TrainConfig } from "../step/config.ts";
import { type CompiledStep, compileStep } from "../step/step.ts";
import {
  DEFAULT_CORPUS,
  RECORDS_DIR,
  VARIANT_RECORDS_DIR,
} from "../history/locations.ts";
import { applyOverrides, overrideText } from "../hypothesis/overrides.ts";
import {
  type RecordName,
  recordPath,
  recordVariant,
} from "../history/records.ts";
import { type RunIdentity, runIdentity } from "../hypothesis/run_key.ts";
import type { RunOptions } from "./run_options.ts";
import type { Hypothesis, Tier } from "../hypothesis/types.ts";

/**
 * Steps a tier runs for a hypothesis: the smoke tier's prefix, or the full
 * run (its `fullSteps` when set, else the config's `maxSteps`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tierSteps } from "./prepare.ts";
 * import { tinyHypothesis } from "../testing/helpers.ts";
 * const h = tinyHypothesis("h", { smokeSteps: 4 });
 * assert.equal(tierSteps(h, "smoke"), 4);
 * assert.equal(tierSteps(h, "full"), h.config.maxSteps);
 * ```
 */
export function tierSteps(h: Hypothesis, tier: Tier): number {
  return tier === "full"
    ? h.fullSteps?.steps ?? h.config.maxSteps
    : h.smoke.steps;
}

/**
 * The config of one replicate: the hypothesis's config with `seed` in place
 * of its own (unchanged when `seed` is undefined).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replicateConfig } from "./prepare.ts";
 * import { tinyHypothesis } from "../testing/helpers.ts";
 * const h = tinyHypothesis("h");
 * assert.equal(replicateConfig(h, 3).seed, 3);
 * assert.equal(replicateConfig(h), h.config);
 * ```
 */
export function replicateConfig(h: Hypothesis, seed?: number): TrainConfig {
  return seed === undefined ? h.config : { ...h.config, seed };
}

/**
 * Where a record of the run `name` may be, under each of `dirs` in turn: its
 * own name, then, for a variant, the name without it. A variant whose
 * overrides set the hypothesis's own values (`--set noise.scale=3e-7` for
 * 11.2f) is the unmodified run, with the same key, which `run <id>`
 * records under the plain name; only a record with the run's key counts.
 * A variant run without `--out` writes under `.cache/records` and also looks
 * in the committed records, where `deno task sweep` writes sweep points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordFilesOf } from "./prepare.ts";
 * const name = {
 *   hypothesisId: "h", tier: "smoke", seed: 42, backend: "cpu", variant: "noise.scale=3e-7",
 * } as const;
 * assert.deepEqual(recordFilesOf(name, ["/cache/records", "/reports/data"]), [
 *   "/cache/records/h/smoke-seed42-cpu-noise.scale=3e-7.json",
 *   "/cache/records/h/smoke-seed42-cpu.json",
 *   "/reports/data/h/smoke-seed42-cpu-noise.scale=3e-7.json",
 *   "/reports/data/h/smoke-seed42-cpu.json",
 * ]);
 * assert.deepEqual(recordFilesOf({ ...name, variant: undefined }, ["/r", "/r"]), [
 *   "/r/h/smoke-seed42-cpu.json",
 * ]);
 * ```
 */
export function recordFilesOf(
  name: RecordName,
  dirs: readonly string[],
): string[] {
  const names = name.variant === undefined
    ? [name]
    : [name, { ...name, variant: undefined }];
  return [
    ...new Set(dirs.flatMap((d) => names.map((n) => recordPath(d, n)))),
  ];
}

/** Everything about a run that is decided before it trains. */
export interface PreparedRun {
  /** The hypothesis being run. */
  readonly hypothesis: Hypothesis;
  /** Tier being run. */
  readonly tier: Tier;
  /** The effective config: the replicate's seed and the overrides applied. */
  readonly config: TrainConfig;
  /** Number of training steps to run. */
  readonly steps: number;
  /** The overrides applied, as `path=value` texts. */
  readonly overrides: readonly string[];
  /** Path of the corpus file. */
  readonly corpusPath: string;
  /** The loaded corpus (filtered bytes, digest, dead tokens). */
  readonly corpus: Awaited<ReturnType<typeof loadCorpus>>;
  /** What the run key hashes. */
  readonly identity: RunIdentity;
  /** The run key: SHA-256 of {@link PreparedRun.identity}, hex. */
  readonly key: string;
  /** What the record file is named after. */
  readonly name: RecordName;
  /** Path the record is (or will be) written to. */
  readonly recordFile: string;
  /**
   * Where a record of this run may already be ({@link recordFilesOf}),
   * `recordFile` first: the planner and the run look in the same places.
   */
  readonly recordFiles: readonly string[];
  /** The compiled training step (ONNX graph and its layout). */
  readonly compiled: CompiledStep;
  /** The backend chosen and why. */
  readonly choice: BackendChoice;
}

/**
 * Validates and identifies a run without training it: config (with
 * overrides), corpus, backend and run key. Throws a ConfigError / CorpusError
 * / BackendError for a run that cannot start.
 *
 * @example A tiny run's key and record path, with nothing trained
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareRun } from "./prepare.ts";
 * import { tinyHypothesis } from "../testing/helpers.ts";
 * const run = await prepareRun(tinyHypothesis("tiny"), {
 *   tier: "smoke",
 *   backend: "cpu",
 *   recordsDir: "/records",
 * });
 * assert.equal(run.steps, 4);
 * assert.match(run.key, /^[0-9a-f]{64}$/);
 * assert.equal(run.recordFile, "/records/tiny/smoke-seed42-cpu.json");
 * ```
 */
export async function prepareRun(
  h: Hypothesis,
  options: RunOptions,
): Promise<PreparedRun> {
  const overrides = options.overrides ?? [];
  const config = applyOverrides(replicateConfig(h, options.seed), overrides);
  const steps = options.steps ?? tierSteps(h, options.tier);
  const corpusPath = options.corpusPath ?? DEFAULT_CORPUS;
  const corpus = await loadCorpus(corpusPath, {
    vocabSize: config.model.vocabSize,
    context: config.seqLen,
    batchSize: config.batchSize,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const selected = await selectBackend(options.backend ?? "auto");
  const graph = compileStep(stepConfigOf(config));
  // `auto` on a GPU machine: make sure WebGPU can load this graph, else
  // fall back to cpu now, before the run key (which names the backend).
  const choice = await usableBackend(selected, graph.onnx);
  const { identity, key, compiled } = await runIdentity({
    config,
    steps,
    corpus: { sha256: corpus.sha256, length: corpus.bytes.length },
    backend: choice.engine.name,
    onnxruntime: choice.engine.runtime,
    compiled: graph,
    replicas: options.replicas,
  });
  const overrideTexts = overrides.map(overrideText);
  const variant = await recordVariant(overrides, {
    isDefault: corpusPath === DEFAULT_CORPUS,
    sha256: corpus.sha256,
  });
  const name: RecordName = {
    hypothesisId: h.id,
    tier: options.tier,
    seed: config.seed,
    backend: choice.engine.name,
    // `--steps` equal to the tier's own length is the tier's run: same key,
    // so the same file (not `-<N>steps`, which no tier run would find).
    steps: steps === tierSteps(h, options.tier) ? undefined : steps,
    variant,
  };
  const dir = options.recordsDir ??
    (variant ? VARIANT_RECORDS_DIR : RECORDS_DIR);
  const recordFile = recordPath(dir, name);
  return {
    hypothesis: h,
    tier: options.tier,
    config,
    steps,
    overrides: overrideTexts,
    corpusPath,
    corpus,
    identity,
    key,
    name,
    recordFile,
    recordFiles: recordFilesOf(
      name,
      options.recordsDir === undefined ? [dir, RECORDS_DIR] : [dir],
    ),
    compiled,
    choice,
  };
}
