/**
 * The trainer's read window: steps run ahead of the host's bookkeeping, and
 * their losses, gradient norms and embedding snapshots stay in the engine's
 * log until the window is read, in one transfer (one GPU-to-CPU sync on
 * WebGPU). A window ends when the log is full (`readEvery` steps), at the
 * last step, at a checkpoint step (so that the state read for the checkpoint
 * is that step's) and when the run is aborted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadWindow } from "./read_window.ts";
 * import type { StepRunner } from "./runner.ts";
 * // A stand-in runner whose log holds 4 steps.
 * let pending = 0;
 * const runner = {
 *   readEvery: 4,
 *   get pending() {
 *     return pending;
 *   },
 *   enqueue: () => Promise.resolve(void pending++),
 * } as unknown as StepRunner;
 * const window = new ReadWindow(runner, {
 *   done: 0,
 *   steps: 10,
 *   checkpointEvery: 3,
 *   startMs: 0,
 * });
 * const ends: number[] = [];
 * for (let step = 1; step <= 4; step++) {
 *   await window.enqueue([], 1e-3);
 *   if (window.due()) ends.push(step);
 * }
 * assert.deepEqual(ends, [3, 4]); // the checkpoint at 3; then a full log
 * ```
 *
 * @module
 */

import { checkpointAt } from "./checkpoint_at.ts";
import type { StepFeed, StepRecord, StepRunner } from "./runner.ts";

/** Options of {@linkcode ReadWindow}'s constructor. */
export interface ReadWindowOptions {
  /** Steps done before the first window (the resume step). */
  readonly done: number;
  /** Steps of the call: the last window ends at the last step. */
  readonly steps: number;
  /** Snapshot the runner's snapshot parameter every this many steps. */
  readonly snapshotEvery?: number;
  /** Windows also end at these checkpoint steps (0: none). */
  readonly checkpointEvery: number;
  /** Windows also end when this is aborted. */
  readonly signal?: AbortSignal;
  /** `performance.now()` at the first step's start. */
  readonly startMs: number;
}

/** One window's steps, as {@linkcode ReadWindow.read} returns them. */
export interface WindowRead {
  /** Number (1-based) of the window's first step. */
  readonly first: number;
  /** Element r: replicate r's records of the window's steps, in order. */
  readonly records: readonly StepRecord[][];
  /** Learning rate of each of the window's steps. */
  readonly lrs: readonly number[];
  /** Milliseconds from the first step's start to this read. */
  readonly elapsedMs: number;
  /** Whether a checkpoint is due after the window's last step. */
  readonly checkpoint: boolean;
}

/** When the step loop reads the runner, and what it reads. */
export class ReadWindow {
  readonly #runner: StepRunner;
  readonly #options: ReadWindowOptions;
  #done: number;
  /** Learning rate of each pending step. */
  #lrs: number[] = [];

  /** A window over `runner`, with no step pending. */
  constructor(runner: StepRunner, options: ReadWindowOptions) {
    this.#runner = runner;
    this.#options = options;
    this.#done = options.done;
  }

  /** Steps read so far (those of earlier calls included). */
  get done(): number {
    return this.#done;
  }

  /** Steps enqueued so far, read or pending. */
  get #enqueued(): number {
    return this.#done + this.#lrs.length;
  }

  /** Runs the next step, with a snapshot when one is due after it. */
  async enqueue(feeds: readonly StepFeed[], lr: number): Promise<void> {
    const every = this.#options.snapshotEvery ?? 0;
    const step = this.#enqueued + 1;
    await this.#runner.enqueue(feeds, {
      snapshot: every > 0 && step % every === 0,
    });
    this.#lrs.push(lr);
  }

  /** Whether the window ends with the last step enqueued. */
  due(): boolean {
    const { steps, checkpointEvery: every, signal } = this.#options;
    const step = this.#enqueued;
    return this.#runner.pending === this.#runner.readEvery ||
      step === steps || checkpointAt(step, { every, steps }) ||
      (signal?.aborted ?? false);
  }

  /** Reads the pending steps' records and closes the window. */
  async read(): Promise<WindowRead> {
    const records = await this.#runner.collectReplicates();
    const elapsedMs = performance.now() - this.#options.startMs;
    const { steps, checkpointEvery: every } = this.#options;
    const first = this.#done + 1;
    const lrs = this.#lrs;
    const n = records[0].length;
    this.#done += n;
    this.#lrs = [];
    return {
      first,
      records,
      lrs,
      elapsedMs,
      checkpoint: n > 0 && checkpointAt(this.#done, { every, steps }),
    };
  }
}
