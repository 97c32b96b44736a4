/**
 * What the submitter and the workers agree on: the queue's name, what a job
 * carries and how it reports progress (a `progress` RunEvent, see
 * `../events.ts`). A job is one run: its data a
 * {@link RunSpec}, its id the run key (so no run is queued twice across the
 * cluster, however submitters pack it), its return value the run record.
 * Runs a submitter packs (`RunSpec.replicas` > 1) are queued side by side,
 * and a worker that takes one takes its pack mates with it and trains them
 * as replicates of one graph.
 *
 * @module
 */

import { isRunSpec, type RunSpec } from "../plan.ts";
import type { RunRecord } from "../../hypothesis/types.ts";

/** The BullMQ queue of runs. */
export const QUEUE_NAME = "horizon-runs";

/** A run the queue completed. */
export interface RunSuccess {
  readonly spec: RunSpec;
  readonly record: RunRecord;
  readonly error?: undefined;
  /** The queue had completed it before this submission (nothing re-ran). */
  readonly reused: boolean;
}

/**
 * A run that failed. `error` is the worker's one-line message; a run that
 * diverged fails with a message starting `diverged` (and is not retried by
 * a later submission, since it would diverge again).
 */
export interface RunFailure {
  readonly spec: RunSpec;
  readonly record?: undefined;
  readonly error: string;
  readonly reused: boolean;
}

/** What became of one submitted run. */
export type RunResult = RunSuccess | RunFailure;

/** Whether a failure reason is a divergence (deterministic: never retried). */
export function isDivergence(error: string): boolean {
  return error.startsWith("diverged");
}

/** `control-layernorm smoke seed 42 [noise.scale=1e-8] b31822f33a04`. */
export function specLabel(spec: RunSpec): string {
  const point = spec.overrides.length > 0
    ? ` [${spec.overrides.join(" ")}]`
    : "";
  return `${spec.hypothesisId} ${spec.tier} seed ${spec.seed}${point} ${
    spec.key.slice(0, 12)
  }`;
}

/**
 * Checks that job data is a {@link RunSpec} (a queue is shared; a worker
 * refuses anything else with a clear message).
 */
export function asRunSpec(data: unknown): RunSpec {
  if (!isRunSpec(data)) {
    throw new Error(
      `job data is not a run spec: ${JSON.stringify(data).slice(0, 120)}`,
    );
  }
  return data;
}
