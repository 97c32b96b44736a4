/**
 * What the submitter and the workers agree on: the queue's name, what a job
 * carries and how it reports progress. A job trains one run (its data is a
 * {@link RunSpec}, its id the run key, its return value the run record) or
 * a pack of runs trained as replicates of one graph (data
 * {@link PackJobData}, id {@link packJobId}, return value
 * {@link PackJobResult}, progress {@link PackProgress}).
 *
 * @module
 */

import type { RunSpec } from "../experiment/plan.ts";
import { sha256Hex } from "../train/config.ts";
import type { RunRecord } from "../experiment/types.ts";

/** The BullMQ queue of runs. */
export const QUEUE_NAME = "horizon-runs";

/** A job's progress (`job.updateProgress`), sent every few seconds. */
export interface RunProgress {
  /** Steps completed. */
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  /** The step the run resumed from (a checkpoint), or null. */
  readonly resumedFrom: number | null;
}

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
  const d = data as Record<string, unknown> | null;
  const ok = d !== null && typeof d === "object" &&
    typeof d.hypothesisId === "string" &&
    (d.tier === "smoke" || d.tier === "full") &&
    Number.isSafeInteger(d.seed) &&
    Array.isArray(d.overrides) &&
    d.overrides.every((o) => typeof o === "string") &&
    typeof d.backend === "string" &&
    typeof d.key === "string" && /^[0-9a-f]{64}$/.test(d.key);
  if (!ok) {
    throw new Error(
      `job data is not a run spec: ${JSON.stringify(data).slice(0, 120)}`,
    );
  }
  return d as unknown as RunSpec;
}

/** The data of a job that trains several runs as one pack. */
export interface PackJobData {
  /** The pack's runs, in order (two or more). */
  readonly pack: readonly RunSpec[];
}

/**
 * What a pack job returns: per run, in the pack's order, its record or
 * why it has none (a divergence's error starts with `diverged`).
 */
export interface PackJobResult {
  /** One entry per run of the pack. */
  readonly results: readonly (
    | { readonly record: RunRecord; readonly error?: undefined }
    | { readonly record?: undefined; readonly error: string }
  )[];
}

/** A pack job's progress: each run's, in the pack's order (null: not yet). */
export interface PackProgress {
  /** One entry per run of the pack. */
  readonly runs: readonly (RunProgress | null)[];
}

/**
 * The job id of a pack: a one-run pack's is its run key (the same job as an
 * unpacked run); a larger pack's, `pack-` and the SHA-256 of its run keys,
 * so the same pack is queued once.
 */
export async function packJobId(specs: readonly RunSpec[]): Promise<string> {
  if (specs.length === 1) return specs[0].key;
  const keys = new TextEncoder().encode(specs.map((s) => s.key).join(","));
  return `pack-${await sha256Hex(keys)}`;
}

/** The job data of a pack (a lone run's is its spec). */
export function packJobData(specs: readonly RunSpec[]): RunSpec | PackJobData {
  return specs.length === 1 ? specs[0] : { pack: specs };
}

/**
 * The runs a job carries: a {@link RunSpec}, or a {@link PackJobData} of
 * two or more; throws a one-line error for anything else.
 */
export function asRunPack(data: unknown): RunSpec[] {
  const d = data as Record<string, unknown> | null;
  if (d !== null && typeof d === "object" && "pack" in d) {
    if (!Array.isArray(d.pack) || d.pack.length < 2) {
      throw new Error(
        `job data is not a pack of run specs: ${
          JSON.stringify(data).slice(0, 120)
        }`,
      );
    }
    return d.pack.map(asRunSpec);
  }
  return [asRunSpec(data)];
}
