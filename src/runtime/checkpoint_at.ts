/**
 * Checkpoints of the training loop: at which steps the trainer hands out the
 * state to resume from, and what that state is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpointAt } from "./checkpoint_at.ts";
 * const steps = [1, 2, 3, 4, 5, 6].filter((step) =>
 *   checkpointAt(step, { every: 2, steps: 6 })
 * );
 * // Never after the last step: the run's result is its state then.
 * assert.deepEqual(steps, [2, 4]);
 * ```
 *
 * @module
 */

import type { HostStreams, HostStreamsSnapshot } from "../step/host_streams.ts";
import type { FlatState, StepRunner } from "./runner.ts";

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

/** When checkpoints are due (options of {@linkcode checkpointAt}). */
export interface CheckpointSchedule {
  /** A checkpoint after every this many steps; 0: none. */
  readonly every: number;
  /** Steps of the call; the last one takes no checkpoint. */
  readonly steps: number;
}

/**
 * Whether a checkpoint is due once `step` steps are done: every `every` steps,
 * but not after the last step of the call.
 */
export function checkpointAt(
  step: number,
  schedule: CheckpointSchedule,
): boolean {
  return schedule.every > 0 && step % schedule.every === 0 &&
    step < schedule.steps;
}

/** What {@linkcode readCheckpoint} reads: one replicate after a step. */
export interface CheckpointSource {
  /** Which replicate of the runner's graph (0 for a solo graph). */
  readonly replicate: number;
  /** Steps done. */
  readonly step: number;
  /** The replicate's host-side random streams, at the checkpoint. */
  readonly host: HostStreams;
  /** Losses of the replicate's steps (at least `step` of them). */
  readonly losses: Float32Array;
  /** Gradient norms of the replicate's steps (at least `step` of them). */
  readonly gradNorms: Float32Array;
}

/**
 * A replicate's checkpoint: its resident state read from `runner` (with no
 * step pending, so that the state is that of `source.step`), the positions of
 * its host streams and the records of the steps done.
 */
export async function readCheckpoint(
  runner: StepRunner,
  source: CheckpointSource,
): Promise<TrainerCheckpoint> {
  const { replicate, step } = source;
  return {
    step,
    state: {
      params: await runner.readState("params", replicate),
      m: await runner.readState("m", replicate),
      v: await runner.readState("v", replicate),
    },
    host: source.host.snapshot(),
    losses: source.losses.slice(0, step),
    gradNorms: source.gradNorms.slice(0, step),
  };
}
