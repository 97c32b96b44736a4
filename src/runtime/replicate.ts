/**
 * One run in the trainer's step loop: its host-side inputs, the record of
 * its steps, its hooks, and the divergence that ends it. A solo run is one
 * replicate; `trainReplicates` (trainer.ts) trains several in one graph, and
 * each observes its own column of every step's record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitHooks } from "./replicate.ts";
 * const onStep = () => {};
 * const { hooks, rest } = splitHooks({ onStep, steps: 3 });
 * assert.deepEqual(hooks, { onStep });
 * assert.deepEqual(rest, { steps: 3 });
 * ```
 *
 * @module
 */

import type { TrainConfig } from "../step/config.ts";
import { HostStreams, initialParameters } from "../step/host_streams.ts";
import { makeBatch } from "../data/sampler.ts";
import { readCheckpoint, type TrainerCheckpoint } from "./checkpoint_at.ts";
import { DivergedError, firstNonFinite, stepDivergence } from "./divergence.ts";
import type { StepFeed, StepRecord, StepRunner } from "./runner.ts";

/** The parameter that `onEmbedding` receives: the token embedding. */
export const EMBEDDING = "transformer.wte.weight";

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

/** The callbacks and resume state of one run (one replicate). */
export interface ReplicateHooks {
  /** Called for every step, in order (see {@linkcode StepInfo}). */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** Receives the copies requested by `embeddingEvery`. */
  onEmbedding?: (step: number, wte: Float32Array) => void | Promise<void>;
  /** Receives each step's noise (for a replay trace). */
  onNoise?: (step: number, noise: Float32Array) => void | Promise<void>;
  /** Record the window offsets of every step (for a replay trace). */
  recordOffsets?: boolean;
  /** Continue a run from this state (taken by `onCheckpoint`). */
  resume?: TrainerCheckpoint;
  /** Receives the state to resume from, after its step's `onStep`. */
  onCheckpoint?: (state: TrainerCheckpoint) => Promise<void>;
}

/**
 * Every key of {@linkcode ReplicateHooks}, checked complete by the compiler,
 * so that the hooks are named once, in the interface.
 */
const HOOK_KEYS: Record<keyof ReplicateHooks, true> = {
  onStep: true,
  onEmbedding: true,
  onNoise: true,
  recordOffsets: true,
  resume: true,
  onCheckpoint: true,
};

/** Splits options into one replicate's hooks and the options they share. */
export function splitHooks<T extends ReplicateHooks>(
  options: T,
): { hooks: ReplicateHooks; rest: Omit<T, keyof ReplicateHooks> } {
  const hooks: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    (Object.hasOwn(HOOK_KEYS, key) ? hooks : rest)[key] = value;
  }
  return { hooks, rest: rest as Omit<T, keyof ReplicateHooks> };
}

/** Options of {@linkcode Replicate}'s constructor. */
export interface ReplicateOptions {
  /** Its index in the runner's graph (0 for a solo graph). */
  readonly index: number;
  /** Its run. */
  readonly config: TrainConfig;
  /** Its callbacks and resume state. */
  readonly hooks: ReplicateHooks;
  /** Bytes of the corpus its batches are drawn from. */
  readonly corpusLength: number;
  /** Steps of the call (the length of its records). */
  readonly steps: number;
}

/** A step as the loop hands it to {@linkcode Replicate.observe}. */
export type StepAt = Omit<StepInfo, "loss" | "gradNorm">;

/** One run in the step loop: where it stands, and what it has recorded. */
export class Replicate {
  /** Its index in the runner's graph. */
  readonly index: number;
  /** Its run. */
  readonly config: TrainConfig;
  /** Its callbacks and resume state. */
  readonly hooks: ReplicateHooks;
  /** Its host-side random streams (batch order, noise). */
  readonly host: HostStreams;
  /** Its parameters before the first step. */
  readonly initial: Map<string, Float32Array>;
  /** Loss of every step recorded so far (resumed ones included). */
  readonly losses: Float32Array;
  /** Pre-clip gradient norm of every step recorded so far. */
  readonly gradNorms: Float32Array;
  /** Window offsets [steps, batchSize] when `recordOffsets` is set. */
  readonly offsets: Int32Array | null;
  #error: DivergedError | null = null;

  /** A replicate at its first step, or where `hooks.resume` left it. */
  constructor(options: ReplicateOptions) {
    const { config, hooks, steps } = options;
    this.index = options.index;
    this.config = config;
    this.hooks = hooks;
    this.host = new HostStreams(config, options.corpusLength);
    const resume = hooks.resume;
    if (resume) this.host.resume(resume.host);
    this.losses = new Float32Array(steps);
    this.gradNorms = new Float32Array(steps);
    if (resume) {
      this.losses.set(resume.losses.subarray(0, resume.step));
      this.gradNorms.set(resume.gradNorms.subarray(0, resume.step));
    }
    this.initial = initialParameters(config);
    this.offsets = hooks.recordOffsets
      ? new Int32Array(steps * config.batchSize)
      : null;
  }

  /** The divergence that ended it; null while it trains. */
  get error(): DivergedError | null {
    return this.#error;
  }

  /**
   * Draws the host inputs of step `t` (0-based) and returns its feed. A
   * diverged replicate still draws, as the graph takes a feed for each.
   */
  async feed(
    t: number,
    corpus: Uint8Array,
  ): Promise<{ feed: StepFeed; lr: number }> {
    const inputs = this.host.next();
    this.offsets?.set(inputs.offsets, t * this.config.batchSize);
    if (inputs.noise && !this.#error) {
      await this.hooks.onNoise?.(t, inputs.noise);
    }
    const { seqLen, objective } = this.config;
    return {
      feed: {
        batch: makeBatch(corpus, inputs.offsets, seqLen, objective),
        scalars: inputs.scalars,
        noise: inputs.noise,
        dropout: inputs.dropout,
        rounding: inputs.rounding,
      },
      lr: inputs.scalars.lr,
    };
  }

  /**
   * Records one step: its loss and gradient norm, the divergence they show
   * (which ends the replicate), its embedding snapshot, then `onStep`.
   */
  async observe(record: StepRecord, at: StepAt): Promise<void> {
    if (this.#error) return;
    const { loss, gradNorm } = record;
    this.losses[at.step - 1] = loss;
    this.gradNorms[at.step - 1] = gradNorm;
    const vocab = this.config.model.vocabSize;
    const bad = stepDivergence(at.step, loss, gradNorm, vocab);
    if (bad) return this.#diverge(bad.step, bad.quantity, bad.value);
    if (record.snapshot && this.hooks.onEmbedding) {
      await this.embedding(at.step, record.snapshot);
      if (this.#error) return;
    }
    await this.hooks.onStep?.({
      step: at.step,
      steps: at.steps,
      loss,
      gradNorm,
      lr: at.lr,
      elapsedMs: at.elapsedMs,
    });
  }

  /**
   * Hands the embedding after `step` steps to `onEmbedding`, unless it is not
   * finite: then the replicate has diverged.
   */
  async embedding(step: number, wte: Float32Array): Promise<void> {
    const bad = firstNonFinite(wte);
    if (bad >= 0) {
      return this.#diverge(step, `parameter ${EMBEDDING}`, wte[bad]);
    }
    await this.hooks.onEmbedding?.(step, wte);
  }

  /**
   * Hands the state after `step` steps to `onCheckpoint` (read from `runner`,
   * where no step may be pending); nothing once diverged.
   */
  async checkpoint(runner: StepRunner, step: number): Promise<void> {
    if (this.#error || !this.hooks.onCheckpoint) return;
    await this.hooks.onCheckpoint(
      await readCheckpoint(runner, {
        replicate: this.index,
        step,
        host: this.host,
        losses: this.losses,
        gradNorms: this.gradNorms,
      }),
    );
  }

  /**
   * The final parameters after `step` steps, read from `runner`; null when
   * the replicate diverged, before or (a parameter not finite) now.
   */
  async finalParameters(
    runner: StepRunner,
    step: number,
  ): Promise<Map<string, Float32Array> | null> {
    if (this.#error) return null;
    const params = await runner.parameters(this.index);
    for (const [name, values] of params) {
      const i = firstNonFinite(values);
      if (i >= 0) {
        this.#diverge(step, `parameter ${name}`, values[i]);
        return null;
      }
    }
    return params;
  }

  #diverge(step: number, quantity: string, value: number): void {
    this.#error = new DivergedError({ step, quantity, value }, {
      losses: this.losses.slice(0, step),
      gradNorms: this.gradNorms.slice(0, step),
    });
  }
}
