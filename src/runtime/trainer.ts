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

import { stepConfigOf, type TrainConfig } from "../step/config.ts";
import {
  HostStreams,
  type HostStreamsSnapshot,
  initialParameters,
} from "../step/host_streams.ts";
import { makeBatch } from "../data/sampler.ts";
import { type CompiledStep, compileStep } from "../step/step.ts";
import {
  compileReplicatedStep,
  type ReplicatedStep,
} from "../step/replicated_step.ts";
import { canonicalJson } from "../step/config.ts";
import { validateTrainConfig } from "../step/validate.ts";
import { type BackendChoice, selectBackend } from "./backend.ts";
import type { BackendName } from "./engine.ts";
import { DivergedError, firstNonFinite, stepDivergence } from "./divergence.ts";
import { type FlatState, StepRunner } from "./runner.ts";

/** Everything the trainer needs to continue a run bit-identically. */
export interface TrainerCheckpoint {
  /** Steps completed. */
  readonly step: number;
  /** Parameters and AdamW moments after `step` steps, as flat vectors. */
  readonly state: FlatState;
  /** Positions of the host-side random streams (batch order, noise). */
  readonly host: HostStreamsSnapshot;
  /** Losses and gradient norms of the completed steps. */
  readonly losses: Float32Array;
  /** Pre-clip gradient norm of each completed step. */
  readonly gradNorms: Float32Array;
}

/**
 * Reported for every step, in order, once its read window has been read (on
 * WebGPU up to `readEvery` steps after it ran).
 */
export interface StepInfo {
  /** Steps completed (1-based). */
  readonly step: number;
  /** Steps this call will run. */
  readonly steps: number;
  /**
   * Training loss of the step's batch: cross-entropy in nats, as HF computes
   * it.
   */
  readonly loss: number;
  /** Gradient norm before clipping. */
  readonly gradNorm: number;
  /** Learning rate used by this step. */
  readonly lr: number;
  /**
   * Milliseconds from the first step's start to the read of this step's
   * window (equal for the steps of one window).
   */
  readonly elapsedMs: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Engine to use; `auto` never picks a software WebGPU adapter. */
  backend?: BackendName | "auto";
  /**
   * Steps to run: a prefix of the configured run (the LR schedule still spans
   * `maxSteps`). Default: `maxSteps`.
   */
  steps?: number;
  /** Called for every step, in order (see {@linkcode StepInfo}). */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /**
   * Steps per read of losses, gradient norms and snapshots from the engine
   * (the read window). Default: 50 on a device-resident engine (WebGPU),
   * where every read is a GPU-to-CPU sync; 1 on cpu and wasm. Results are the
   * same for every value.
   */
  readEvery?: number;
  /** Copy the token embedding every k steps (and at step 0); 0: never. */
  embeddingEvery?: number;
  /** Receives the copies requested by `embeddingEvery`. */
  onEmbedding?: (step: number, wte: Float32Array) => void | Promise<void>;
  /** Record the window offsets of every step (for a replay trace). */
  recordOffsets?: boolean;
  /** Receives each step's noise (for a replay trace). */
  onNoise?: (step: number, noise: Float32Array) => void | Promise<void>;
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
  /** Continue a run from this state (taken by `onCheckpoint`). */
  resume?: TrainerCheckpoint;
  /** Call `onCheckpoint` after every this many steps (not after the last). */
  checkpointEvery?: number;
  /** Receives the state to resume from, after its step's `onStep`. */
  onCheckpoint?: (state: TrainerCheckpoint) => Promise<void>;
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
  const {
    onStep,
    onEmbedding,
    onNoise,
    recordOffsets,
    resume,
    onCheckpoint,
    ...shared
  } = options;
  // A bad config is a one-line error before anything compiles.
  validateTrainConfig(config);
  const [outcome] = await lockstep([config], corpus, shared, [{
    onStep,
    onEmbedding,
    onNoise,
    recordOffsets,
    resume,
    onCheckpoint,
  }], options.compiled ?? compileStep(stepConfigOf(config)));
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}

/** What belongs to one replicate of {@link trainReplicates}. */
export type ReplicateHooks = Pick<
  TrainOptions,
  | "onStep"
  | "onEmbedding"
  | "onNoise"
  | "recordOffsets"
  | "resume"
  | "onCheckpoint"
>;

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

/** Where one replicate stands in the loop. */
interface Replicate {
  readonly config: TrainConfig;
  readonly hooks: ReplicateHooks;
  readonly host: HostStreams;
  readonly initial: Map<string, Float32Array>;
  readonly losses: Float32Array;
  readonly gradNorms: Float32Array;
  readonly offsets: Int32Array | null;
  /** Set when the replicate diverged; it takes no further part. */
  error: DivergedError | null;
}

/**
 * The step loop shared by a solo run and replicates in one graph (callers
 * validate the configs).
 */
async function lockstep(
  configs: readonly TrainConfig[],
  corpus: Uint8Array,
  options: Omit<TrainOptions, keyof ReplicateHooks | "compiled">,
  hooks: readonly ReplicateHooks[],
  compiled: CompiledStep,
): Promise<ReplicateOutcome[]> {
  const first = configs[0];
  const steps = options.steps ?? first.maxSteps;
  for (const c of configs) {
    if (!Number.isInteger(steps) || steps < 0 || steps > c.maxSteps) {
      throw new RangeError(
        `steps must be an integer in 0..${c.maxSteps}, got ${steps}`,
      );
    }
  }
  const resumed = hooks.map((h) => h.resume);
  const start0 = resumed[0]?.step ?? 0;
  if (resumed.some((r) => (r?.step ?? 0) !== start0 || !r !== !resumed[0])) {
    throw new RangeError("replicates must all resume at the same step");
  }
  if (start0 < 0 || start0 > steps) {
    throw new RangeError(`cannot resume at step ${start0} of ${steps}`);
  }
  const setupStart = performance.now();
  const choice: BackendChoice = options.choice ??
    await selectBackend(options.backend ?? "auto");
  const B = first.batchSize, T = first.seqLen;
  const reps: Replicate[] = configs.map((config, r) => {
    const host = new HostStreams(config, corpus.length);
    const resume = hooks[r].resume;
    if (resume) host.resume(resume.host);
    const losses = new Float32Array(steps);
    const gradNorms = new Float32Array(steps);
    if (resume) {
      losses.set(resume.losses.subarray(0, start0));
      gradNorms.set(resume.gradNorms.subarray(0, start0));
    }
    return {
      config,
      hooks: hooks[r],
      host,
      initial: initialParameters(config),
      losses,
      gradNorms,
      offsets: hooks[r].recordOffsets ? new Int32Array(steps * B) : null,
      error: null,
    };
  });
  const every = options.embeddingEvery ?? 0;
  const snapshots = every > 0 && hooks.some((h) => h.onEmbedding);
  const wteName = "transformer.wte.weight";
  const runner = await StepRunner.create(
    choice.engine,
    compiled,
    reps.map((r) => r.initial),
    {
      threads: options.threads,
      state: resumed[0] ? resumed.map((r) => r!.state) : undefined,
      readEvery: options.readEvery,
      snapshot: snapshots ? { name: wteName, every } : undefined,
    },
  );
  const setupMs = performance.now() - setupStart;
  const ckEvery = options.checkpointEvery ?? 0;
  const V = first.model.vocabSize;
  const live = () => reps.filter((r) => !r.error);
  const diverged = (
    rep: Replicate,
    step: number,
    quantity: string,
    value: number,
  ) => {
    rep.error = new DivergedError({ step, quantity, value }, {
      losses: rep.losses.slice(0, step),
      gradNorms: rep.gradNorms.slice(0, step),
    });
  };
  /** Whether the embedding is finite (else the replicate is marked). */
  const finiteEmbedding = (rep: Replicate, step: number, wte: Float32Array) => {
    const bad = firstNonFinite(wte);
    if (bad >= 0) diverged(rep, step, `parameter ${wteName}`, wte[bad]);
    return bad < 0;
  };

  const start = performance.now();
  let done = start0;
  try {
    if (snapshots && !resumed[0]) {
      for (const [r, rep] of reps.entries()) {
        if (!rep.hooks.onEmbedding) continue;
        const wte = await runner.read(wteName, r);
        if (finiteEmbedding(rep, 0, wte)) await rep.hooks.onEmbedding(0, wte);
      }
    }
    /** Learning rate of each pending step. */
    const lrs: number[] = [];
    /** Reads the window and handles its steps in order. */
    const drain = async () => {
      const records = await runner.collectReplicates();
      const elapsedMs = performance.now() - start;
      const n = records[0].length;
      for (let i = 0; i < n; i++) {
        const step = done + i + 1;
        for (const [r, rep] of reps.entries()) {
          if (rep.error) continue;
          const record = records[r][i];
          rep.losses[step - 1] = record.loss;
          rep.gradNorms[step - 1] = record.gradNorm;
          const bad = stepDivergence(step, record.loss, record.gradNorm, V);
          if (bad) {
            diverged(rep, bad.step, bad.quantity, bad.value);
            continue;
          }
          if (
            record.snapshot && rep.hooks.onEmbedding &&
            finiteEmbedding(rep, step, record.snapshot)
          ) {
            await rep.hooks.onEmbedding(step, record.snapshot);
          }
          if (rep.error) continue;
          await rep.hooks.onStep?.({
            step,
            steps,
            loss: record.loss,
            gradNorm: record.gradNorm,
            lr: lrs[i],
            elapsedMs,
          });
        }
      }
      done += n;
      lrs.length = 0;
      // Windows end at checkpoint steps, so the state is this step's.
      if (ckEvery > 0 && done % ckEvery === 0 && done < steps && n) {
        for (const [r, rep] of reps.entries()) {
          if (rep.error || !rep.hooks.onCheckpoint) continue;
          await rep.hooks.onCheckpoint({
            step: done,
            state: {
              params: await runner.readState("params", r),
              m: await runner.readState("m", r),
              v: await runner.readState("v", r),
            },
            host: rep.host.snapshot(),
            losses: rep.losses.slice(0, done),
            gradNorms: rep.gradNorms.slice(0, done),
          });
        }
      }
    };
    for (let t = done; t < steps && live().length; t++) {
      if (options.signal?.aborted) break;
      const feeds = [];
      let lr = 0;
      for (const rep of reps) {
        const inputs = rep.host.next();
        rep.offsets?.set(inputs.offsets, t * B);
        if (inputs.noise && !rep.error) {
          await rep.hooks.onNoise?.(t, inputs.noise);
        }
        lr = inputs.scalars.lr;
        feeds.push({
          batch: makeBatch(corpus, inputs.offsets, T, rep.config.objective),
          scalars: inputs.scalars,
          noise: inputs.noise,
        });
      }
      const n = t + 1;
      await runner.enqueue(feeds, { snapshot: snapshots && n % every === 0 });
      lrs.push(lr);
      if (
        runner.pending === runner.readEvery || n === steps ||
        (ckEvery > 0 && n % ckEvery === 0) || options.signal?.aborted
      ) {
        await drain();
      }
    }
    await drain();
    const wallMs = performance.now() - start;
    const outcomes: ReplicateOutcome[] = [];
    for (const [r, rep] of reps.entries()) {
      if (!rep.error) {
        const finalParams = await runner.parameters(r);
        for (const [name, values] of finalParams) {
          const i = firstNonFinite(values);
          if (i >= 0) {
            diverged(rep, done, `parameter ${name}`, values[i]);
            break;
          }
        }
        if (!rep.error) {
          outcomes.push({
            ok: true,
            result: {
              config: rep.config,
              backend: choice.engine.name,
              engine: runner.session.description,
              reason: choice.reason,
              stepsRun: done,
              losses: rep.losses.subarray(0, done),
              gradNorms: rep.gradNorms.subarray(0, done),
              initialParams: rep.initial,
              finalParams,
              offsets: rep.offsets ? rep.offsets.subarray(0, done * B) : null,
              wallMs,
              setupMs,
            },
          });
          continue;
        }
      }
      outcomes.push({ ok: false, error: rep.error! });
    }
    return outcomes;
  } finally {
    await runner.release();
  }
}
