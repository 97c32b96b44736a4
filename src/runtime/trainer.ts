/**
 * The training loop: seeded host-side data and noise, one compiled step graph,
 * state resident in the engine. Identical numbers enter every backend, so runs
 * on cpu, wasm and webgpu differ only by the engines' float32 arithmetic.
 *
 * Steps run ahead of the host's bookkeeping by up to a read window
 * (`readEvery` steps: 50 on WebGPU, 1 on the host engines): losses, gradient
 * norms and embedding snapshots stay on the device and are read once per
 * window, then handled step by step in order — progress, divergence (at the
 * first bad step, with the same record), snapshots and checkpoints are the
 * same as with a read after every step. Windows end early at checkpoints and
 * at the last step.
 *
 * The loop's parts each have a file: `replicate.ts` (one run: its inputs,
 * its record of each step, its hooks, its divergence), `read_window.ts`
 * (when the engine is read, and what), `checkpoint_at.ts` (at which steps a
 * checkpoint is taken, and what it holds).
 *
 * {@link trainReplicates} trains several runs that share one step graph
 * (seeds, or sweep points that differ only in host-side inputs such as the
 * noise scale) in lock step, as R replicates of one graph: on the cpu
 * engine each replicate's numbers are bit-identical to its solo run
 * (runtime/replicates_test.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { train } from "./trainer.ts";
 * import { SEED_RUN } from "../step/config.ts";
 * // The seeds' model at context 16, batch 2: three steps in well under a second.
 * const config = {
 *   ...SEED_RUN,
 *   model: { ...SEED_RUN.model, context: 16 },
 *   batchSize: 2,
 *   seqLen: 16,
 *   maxSteps: 50,
 * };
 * const corpus = new TextEncoder().encode("some text ".repeat(100));
 * const steps: number[] = [];
 * const result = await train(config, corpus, {
 *   backend: "cpu",
 *   steps: 3,
 *   onStep: ({ step }) => void steps.push(step),
 * });
 * assert.deepEqual(steps, [1, 2, 3]);
 * assert.equal(result.losses.length, 3);
 * assert.ok(result.losses.every(Number.isFinite));
 * ```
 *
 * @module
 */

import {
  canonicalJson,
  stepConfigOf,
  type TrainConfig,
} from "../step/config.ts";
import {
  compileReplicatedStep,
  type ReplicatedStep,
} from "../step/replicated_step.ts";
import { type CompiledStep, compileStep } from "../step/step.ts";
import { validateTrainConfig } from "../step/validate.ts";
import { type BackendChoice, selectBackend } from "./backend.ts";
import type { DivergedError } from "./divergence.ts";
import type { BackendName } from "./engine.ts";
import { ReadWindow } from "./read_window.ts";
import {
  EMBEDDING,
  Replicate,
  type ReplicateHooks,
  splitHooks,
} from "./replicate.ts";
import { type StepFeed, StepRunner } from "./runner.ts";

export type { TrainerCheckpoint } from "./checkpoint_at.ts";
export type { ReplicateHooks, StepInfo } from "./replicate.ts";

/**
 * Options of {@link train}: how to run, and the run's hooks (see
 * {@linkcode ReplicateHooks}).
 */
export interface TrainOptions extends ReplicateHooks {
  /** Engine to use; `auto` never picks a software WebGPU adapter. */
  backend?: BackendName | "auto";
  /**
   * Steps to run: a prefix of the configured run (the LR schedule still spans
   * `maxSteps`). Default: `maxSteps`.
   */
  steps?: number;
  /**
   * Steps per read of losses, gradient norms and snapshots from the engine
   * (the read window). Default: 50 on a device-resident engine (WebGPU),
   * where every read is a GPU-to-CPU sync; 1 on cpu and wasm. Results are the
   * same for every value.
   */
  readEvery?: number;
  /** Copy the token embedding every k steps (and at step 0); 0: never. */
  embeddingEvery?: number;
  /** Intra-op threads of the cpu engine. */
  threads?: number;
  /**
   * Stops the run after the current step; the steps of the current read
   * window are read and reported first (so an abort from inside `onStep`
   * takes effect after the rest of that step's window).
   */
  signal?: AbortSignal;
  /** A backend already selected (overrides `backend`). */
  choice?: BackendChoice;
  /** Call `onCheckpoint` after every this many steps (not after the last). */
  checkpointEvery?: number;
  /** The step graph of `config`, when the caller has compiled it already. */
  compiled?: CompiledStep;
}

/** What a run produced. */
export interface TrainResult {
  /** The config that was trained. */
  readonly config: TrainConfig;
  /** Backend the steps ran on. */
  readonly backend: BackendName;
  /** Engine and adapter description. */
  readonly engine: string;
  /** Why this backend was chosen. */
  readonly reason: string;
  /** Number of steps run (fewer than asked when `signal` stopped the run). */
  readonly stepsRun: number;
  /** Loss of each step run, in nats (length `stepsRun`). */
  readonly losses: Float32Array;
  /** Pre-clip gradient norm of each step run (length `stepsRun`). */
  readonly gradNorms: Float32Array;
  /** Parameters before the first step, by HF name, each row-major and flat. */
  readonly initialParams: Map<string, Float32Array>;
  /**
   * Parameters after the last step run, by HF name, each row-major and flat.
   */
  readonly finalParams: Map<string, Float32Array>;
  /** Window offsets [stepsRun, batchSize] when `recordOffsets` was set. */
  readonly offsets: Int32Array | null;
  /** Wall time of the step loop (excludes graph compilation and loading). */
  readonly wallMs: number;
  /** Time to compile and load the graph. */
  readonly setupMs: number;
}

/** Initial parameters of a run (host side, identical for every backend). */
export { initialParameters } from "../step/host_streams.ts";

/** Trains `config` on `corpus` (bytes < vocab size). */
export async function train(
  config: TrainConfig,
  corpus: Uint8Array,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const { hooks, rest } = splitHooks(options);
  // A bad config is a one-line error before anything compiles.
  validateTrainConfig(config);
  const [outcome] = await lockstep(
    [config],
    corpus,
    rest,
    [hooks],
    options.compiled ?? compileStep(stepConfigOf(config)),
  );
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}

/** Options of {@link trainReplicates}. */
export interface ReplicateTrainOptions
  extends Omit<TrainOptions, keyof ReplicateHooks | "compiled"> {
  /**
   * Callbacks and resume state of each replicate, in the order of the
   * configs (default: none). Resumed replicates must all resume at the same
   * step.
   */
  replicates?: readonly ReplicateHooks[];
  /** The replicated step graph, when the caller has compiled it already. */
  compiled?: ReplicatedStep;
}

/** How one replicate ended: a result, or the divergence that stopped it. */
export type ReplicateOutcome =
  | { readonly ok: true; readonly result: TrainResult }
  | { readonly ok: false; readonly error: DivergedError };

/**
 * Trains several configs in lock step as replicates of one step graph. The
 * configs must compile to the same step graph (`stepConfigOf`) and share
 * the step schedule; they may differ in seed and in host-side inputs (noise
 * scale, corpus order). A replicate that diverges ends with its
 * {@linkcode DivergedError} while the others go on.
 */
export async function trainReplicates(
  configs: readonly TrainConfig[],
  corpus: Uint8Array,
  options: ReplicateTrainOptions = {},
): Promise<ReplicateOutcome[]> {
  if (configs.length === 0) throw new RangeError("no configs to train");
  for (const c of configs) validateTrainConfig(c);
  const graph = canonicalJson(stepConfigOf(configs[0]));
  for (const c of configs) {
    if (canonicalJson(stepConfigOf(c)) !== graph) {
      throw new RangeError(
        "replicates must share one step graph (same model, batch, precision)",
      );
    }
  }
  const { replicates, compiled, ...shared } = options;
  const hooks = replicates ?? configs.map(() => ({}));
  if (hooks.length !== configs.length) {
    throw new RangeError(
      `${hooks.length} replicate hooks for ${configs.length} configs`,
    );
  }
  return await lockstep(
    configs,
    corpus,
    shared,
    hooks,
    compiled ??
      compileReplicatedStep(stepConfigOf(configs[0]), configs.length),
  );
}

/** The options every replicate of one loop shares. */
type SharedOptions = Omit<TrainOptions, keyof ReplicateHooks | "compiled">;

/** The steps of the call, checked against every config's schedule. */
function stepsOf(
  configs: readonly TrainConfig[],
  steps = configs[0].maxSteps,
): number {
  for (const c of configs) {
    if (!Number.isInteger(steps) || steps < 0 || steps > c.maxSteps) {
      throw new RangeError(
        `steps must be an integer in 0..${c.maxSteps}, got ${steps}`,
      );
    }
  }
  return steps;
}

/** The step all replicates resume at (0 for a fresh start), checked. */
function resumeStep(hooks: readonly ReplicateHooks[], steps: number): number {
  const resumed = hooks.map((h) => h.resume);
  const start = resumed[0]?.step ?? 0;
  if (resumed.some((r) => (r?.step ?? 0) !== start || !r !== !resumed[0])) {
    throw new RangeError("replicates must all resume at the same step");
  }
  if (start < 0 || start > steps) {
    throw new RangeError(`cannot resume at step ${start} of ${steps}`);
  }
  return start;
}

/**
 * The step loop shared by a solo run and replicates in one graph (callers
 * validate the configs).
 */
async function lockstep(
  configs: readonly TrainConfig[],
  corpus: Uint8Array,
  options: SharedOptions,
  hooks: readonly ReplicateHooks[],
  compiled: CompiledStep,
): Promise<ReplicateOutcome[]> {
  const steps = stepsOf(configs, options.steps);
  const done = resumeStep(hooks, steps);
  const resumed = Boolean(hooks[0].resume);
  const setupStart = performance.now();
  const choice: BackendChoice = options.choice ??
    await selectBackend(options.backend ?? "auto");
  const reps = configs.map((config, index) =>
    new Replicate({
      index,
      config,
      hooks: hooks[index],
      corpusLength: corpus.length,
      steps,
    })
  );
  const every = options.embeddingEvery ?? 0;
  const snapshotEvery = every > 0 && hooks.some((h) => h.onEmbedding)
    ? every
    : 0;
  const runner = await StepRunner.create(
    choice.engine,
    compiled,
    reps.map((r) => r.initial),
    {
      threads: options.threads,
      state: resumed ? hooks.map((h) => h.resume!.state) : undefined,
      readEvery: options.readEvery,
      snapshot: snapshotEvery ? { name: EMBEDDING, every } : undefined,
    },
  );
  const setupMs = performance.now() - setupStart;
  const startMs = performance.now();
  try {
    const window = new ReadWindow(runner, {
      done,
      steps,
      snapshotEvery,
      checkpointEvery: options.checkpointEvery ?? 0,
      signal: options.signal,
      startMs,
    });
    const loop = { runner, window, reps, corpus, steps };
    if (snapshotEvery && !resumed) await firstEmbeddings(loop);
    await runSteps(loop, options.signal);
    const wallMs = performance.now() - startMs;
    return await outcomes(loop, { choice, wallMs, setupMs });
  } finally {
    await runner.release();
  }
}

/** What the step loop works on. */
interface Loop {
  readonly runner: StepRunner;
  readonly window: ReadWindow;
  readonly reps: readonly Replicate[];
  readonly corpus: Uint8Array;
  readonly steps: number;
}

/** Hands the embedding before the first step to the replicates that ask. */
async function firstEmbeddings(loop: Loop): Promise<void> {
  for (const rep of loop.reps) {
    if (!rep.hooks.onEmbedding) continue;
    await rep.embedding(0, await loop.runner.read(EMBEDDING, rep.index));
  }
}

/**
 * Runs the steps from `window.done` to `steps`, handing each window's steps
 * to the replicates once it is read; stops early when every replicate has
 * diverged, or after the current window when `signal` aborts.
 */
async function runSteps(loop: Loop, signal?: AbortSignal): Promise<void> {
  const { window, reps, corpus, steps } = loop;
  for (let t = window.done; t < steps && reps.some((r) => !r.error); t++) {
    if (signal?.aborted) break;
    const feeds: StepFeed[] = [];
    let lr = 0;
    for (const rep of reps) {
      const next = await rep.feed(t, corpus);
      feeds.push(next.feed);
      lr = next.lr;
    }
    await window.enqueue(feeds, lr);
    if (window.due()) await drain(loop);
  }
  await drain(loop);
}

/** Reads the window and hands its steps, in order, to every replicate. */
async function drain(loop: Loop): Promise<void> {
  const { runner, window, reps, steps } = loop;
  const { first, records, lrs, elapsedMs, checkpoint } = await window.read();
  for (const i of records[0].keys()) {
    const at = { step: first + i, steps, lr: lrs[i], elapsedMs };
    for (const rep of reps) await rep.observe(records[rep.index][i], at);
  }
  // Windows end at checkpoint steps, so the state is this step's.
  if (checkpoint) {
    for (const rep of reps) await rep.checkpoint(runner, window.done);
  }
}

/** How each replicate ended, once the loop is done. */
async function outcomes(
  loop: Loop,
  run: Pick<TrainResult, "wallMs" | "setupMs"> & { choice: BackendChoice },
): Promise<ReplicateOutcome[]> {
  const { runner, window, reps } = loop;
  const { choice, wallMs, setupMs } = run;
  const stepsRun = window.done;
  const list: ReplicateOutcome[] = [];
  for (const rep of reps) {
    const finalParams = await rep.finalParameters(runner, stepsRun);
    if (!finalParams) {
      list.push({ ok: false, error: rep.error! });
      continue;
    }
    const B = rep.config.batchSize;
    const result: TrainResult = {
      config: rep.config,
      backend: choice.engine.name,
      engine: runner.session.description,
      reason: choice.reason,
      stepsRun,
      losses: rep.losses.subarray(0, stepsRun),
      gradNorms: rep.gradNorms.subarray(0, stepsRun),
      initialParams: rep.initial,
      finalParams,
      offsets: rep.offsets ? rep.offsets.subarray(0, stepsRun * B) : null,
      wallMs,
      setupMs,
    };
    list.push({ ok: true, result });
  }
  return list;
}
