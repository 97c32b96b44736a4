/**
 * What the submitter and the workers agree on: the queue's name, what a job
 * carries and how it reports progress (a `progress` RunEvent, see
 * `../events.ts`). A job is one run: its data a
 * {@link RunSpec}, its id the run key (so no run is queued twice across the
 * cluster, however submitters pack it), its return value the run record
 * ({@link JobReturn}).
 * Runs a submitter packs (`RunSpec.replicas` > 1) are queued side by side,
 * and a worker that takes one takes its pack mates with it and trains them
 * as replicates of one graph.
 *
 * @module
 */

import { isRunSpec, type RunSpec } from "../plan.ts";
import type { RunEnd } from "../events.ts";
import type { RunRecord } from "../../hypothesis/types.ts";
import { parseRecord } from "../../history/records.ts";

/** The BullMQ queue of runs. */
export const QUEUE_NAME = "horizon-runs";

/**
 * A completed job's return value. Workers before this format returned the
 * bare record.
 */
export interface JobReturn {
  /** The run's record (a `diverged` one, verdict `invalid`, if it diverged). */
  readonly record: RunRecord;
  /**
   * Runs trained in one graph with it, itself included (absent when it
   * diverged).
   */
  readonly replicas?: number;
}

/**
 * The end of `spec`'s run that a completed job's return value says, checked:
 * `finished` with its record, or `diverged` with its `diverged` record.
 * `replicas` is 0 when `reused` (the queue had completed the job before this
 * submission: nothing trained for it), else the job's, or the pack the spec
 * names for a bare record. Throws a one-line error when the value is not a
 * record of this run.
 */
export function jobEnd(
  spec: RunSpec,
  value: unknown,
  reused: boolean,
): Extract<RunEnd, { readonly type: "finished" | "diverged" }> {
  const where = `the queue's record of ${spec.key.slice(0, 12)}`;
  const wrapped = value !== null && typeof value === "object" &&
    "record" in value;
  const record = parseRecord(
    JSON.stringify(wrapped ? value.record : value),
    where,
  );
  if (record.key !== spec.key) {
    throw new Error(`${where} has run key ${record.key.slice(0, 12)}`);
  }
  if (record.status === "diverged") {
    const message = `diverged at step ${
      record.divergence?.step ?? "?"
    } (recorded as invalid)`;
    return { type: "diverged", spec, message, record };
  }
  const given = wrapped && "replicas" in value ? value.replicas : undefined;
  const replicas = reused
    ? 0
    : typeof given === "number" && Number.isSafeInteger(given) && given >= 1
    ? given
    : spec.replicas ?? 1;
  return { type: "finished", spec, record, replicas };
}

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
