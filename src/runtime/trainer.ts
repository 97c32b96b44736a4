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
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { train } from "./trainer.ts";
 * import { SEED_RUN } from "../train/config.ts";
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

import { stepConfigOf, type TrainConfig } from "../train/config.ts";
import {
  HostStreams,
  type HostStreamsSnapshot,
  initialParameters,
} from "../train/host_streams.ts";
import { makeBatch } from "../train/sampler.ts";
import { type CompiledStep, compileStep } from "../train/step.ts";
import { validateTrainConfig } from "../train/validate.ts";
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
export { initialParameters } from "../train/host_streams.ts";

/** Trains `config` on `corpus` (bytes < vocab size). */
export async function train(
  config: TrainConfig,
  corpus: Uint8Array,
  options: TrainOptions = {},
): Promise<TrainResult> {
  validateTrainConfig(config);
  const steps = options.steps ?? config.maxSteps;
  if (!Number.isInteger(steps) || steps < 0 || steps > config.maxSteps) {
    throw new RangeError(
      `steps must be an integer in 0..${config.maxSteps}, got ${steps}`,
    );
  }
  const setupStart = performance.now();
  const choice: BackendChoice = options.choice ??
    await selectBackend(options.backend ?? "auto");
  const compiled = options.compiled ?? compileStep(stepConfigOf(config));
  const initial = initialParameters(config);
  const resume = options.resume;
  if (resume && (resume.step < 0 || resume.step > steps)) {
    throw new RangeError(`cannot resume at step ${resume.step} of ${steps}`);
  }
  const every = options.embeddingEvery ?? 0;
  const snapshots = every > 0 && options.onEmbedding !== undefined;
  const wteName = "transformer.wte.weight";
  const runner = await StepRunner.create(choice.engine, compiled, initial, {
    threads: options.threads,
    state: resume?.state,
    readEvery: options.readEvery,
    snapshot: snapshots ? { name: wteName, every } : undefined,
  });
  const setupMs = performance.now() - setupStart;

  const B = config.batchSize, T = config.seqLen;
  const host = new HostStreams(config, corpus.length);
  if (resume) host.resume(resume.host);
  const losses = new Float32Array(steps);
  const gradNorms = new Float32Array(steps);
  const offsets = options.recordOffsets ? new Int32Array(steps * B) : null;
  const ckEvery = options.checkpointEvery ?? 0;

  const start = performance.now();
  let done = resume?.step ?? 0;
  if (resume) {
    losses.set(resume.losses.subarray(0, done));
    gradNorms.set(resume.gradNorms.subarray(0, done));
  }
  try {
    const V = config.model.vocabSize;
    const diverged = (step: number, quantity: string, value: number) =>
      new DivergedError({ step, quantity, value }, {
        losses: losses.slice(0, step),
        gradNorms: gradNorms.slice(0, step),
      });
    const checkEmbedding = (step: number, wte: Float32Array) => {
      const bad = firstNonFinite(wte);
      if (bad >= 0) throw diverged(step, `parameter ${wteName}`, wte[bad]);
      return wte;
    };
    if (snapshots && !resume) {
      await options.onEmbedding!(
        0,
        checkEmbedding(0, await runner.read(wteName)),
      );
    }
    /** Learning rate of each pending step. */
    const lrs: number[] = [];
    /** Reads the window and handles its steps in order. */
    const drain = async () => {
      const records = await runner.collect();
      const elapsedMs = performance.now() - start;
      for (const [i, r] of records.entries()) {
        const t = done;
        losses[t] = r.loss;
        gradNorms[t] = r.gradNorm;
        done = t + 1;
        const bad = stepDivergence(done, r.loss, r.gradNorm, V);
        if (bad) throw diverged(bad.step, bad.quantity, bad.value);
        if (r.snapshot) {
          await options.onEmbedding!(done, checkEmbedding(done, r.snapshot));
        }
        await options.onStep?.({
          step: done,
          steps,
          loss: r.loss,
          gradNorm: r.gradNorm,
          lr: lrs[i],
          elapsedMs,
        });
      }
      lrs.length = 0;
      // Windows end at checkpoint steps, so the state is this step's.
      if (
        ckEvery > 0 && options.onCheckpoint && done % ckEvery === 0 &&
        done < steps && records.length
      ) {
        await options.onCheckpoint({
          step: done,
          state: {
            params: await runner.readState("params"),
            m: await runner.readState("m"),
            v: await runner.readState("v"),
          },
          host: host.snapshot(),
          losses: losses.slice(0, done),
          gradNorms: gradNorms.slice(0, done),
        });
      }
    };
    for (let t = done; t < steps; t++) {
      if (options.signal?.aborted) break;
      const inputs = host.next();
      offsets?.set(inputs.offsets, t * B);
      if (inputs.noise) await options.onNoise?.(t, inputs.noise);
      const n = t + 1;
      await runner.enqueue({
        batch: makeBatch(corpus, inputs.offsets, T, config.objective),
        scalars: inputs.scalars,
        noise: inputs.noise,
      }, { snapshot: snapshots && n % every === 0 });
      lrs.push(inputs.scalars.lr);
      if (
        runner.pending === runner.readEvery || n === steps ||
        (ckEvery > 0 && n % ckEvery === 0) || options.signal?.aborted
      ) {
        await drain();
      }
    }
    await drain();
    const wallMs = performance.now() - start;
    const finalParams = await runner.parameters();
    for (const [name, values] of finalParams) {
      const i = firstNonFinite(values);
      if (i >= 0) throw diverged(done, `parameter ${name}`, values[i]);
    }
    return {
      config,
      backend: choice.engine.name,
      engine: runner.session.description,
      reason: choice.reason,
      stepsRun: done,
      losses: losses.subarray(0, done),
      gradNorms: gradNorms.subarray(0, done),
      initialParams: initial,
      finalParams,
      offsets: offsets ? offsets.subarray(0, done * B) : null,
      wallMs,
      setupMs,
    };
  } finally {
    await runner.release();
  }
}
