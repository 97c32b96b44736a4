/**
 * Executes one {@link RunSpec} anywhere (this process, a pool worker, a
 * queue worker on another machine): resolves the hypothesis and overrides,
 * checks that this machine computes the same run key as the planner (same
 * graph, host streams, onnxruntime, analysis), trains with periodic
 * checkpoints, and returns the record.
 *
 * @module
 */

import { hypothesisById } from "../../hypotheses/mod.ts";
import type { StepInfo } from "../runtime/trainer.ts";
import { parseOverride } from "./overrides.ts";
import type { RunSpec } from "./plan.ts";
import { prepareRun } from "./prepare.ts";
import { runHypothesisDetailed } from "./run.ts";
import type { RunRecord } from "./types.ts";

/** Where a run's checkpoints are kept (a file, a Redis key, ...). */
export interface CheckpointStore {
  /** The latest checkpoint's bytes, or null. */
  load(): Promise<Uint8Array | null>;
  /** Replaces the checkpoint (must be atomic: a reader sees old or new). */
  save(bytes: Uint8Array): Promise<void>;
  /** Removes it (the run completed). */
  clear(): Promise<void>;
}

/** Options of {@link executeRun}. */
export interface ExecuteOptions {
  readonly threads?: number;
  readonly signal?: AbortSignal;
  readonly onStep?: (info: StepInfo) => void | Promise<void>;
  /** Checkpoint store and interval (steps); a run resumes from it. */
  readonly checkpoints?: {
    readonly store: CheckpointStore;
    readonly every: number;
  };
  /** Write the record (default true; a queue worker returns it instead). */
  readonly saveRecord?: boolean;
  /** Write the embedding history (default true). */
  readonly writeHistory?: boolean;
  readonly recordsDir?: string;
  readonly cacheDir?: string;
  /** Reuse an existing record with the same key (default true). */
  readonly useCache?: boolean;
  readonly onNote?: (note: string) => void;
}

/** This machine computes another run key than the spec's. */
export class KeyMismatchError extends Error {
  override name = "KeyMismatchError";
}

/** Runs one spec and returns its record (see module doc). */
export async function executeRun(
  spec: RunSpec,
  options: ExecuteOptions = {},
): Promise<RunRecord> {
  const h = hypothesisById(spec.hypothesisId);
  const runOptions = {
    tier: spec.tier,
    seed: spec.seed,
    backend: spec.backend,
    overrides: spec.overrides.map(parseOverride),
    threads: options.threads,
    signal: options.signal,
    onStep: options.onStep,
    onNote: options.onNote,
    saveRecord: options.saveRecord,
    writeHistory: options.writeHistory,
    recordsDir: options.recordsDir,
    cacheDir: options.cacheDir,
    useCache: options.useCache,
    checkpoints: options.checkpoints,
  };
  const prepared = await prepareRun(h, runOptions);
  if (prepared.key !== spec.key) {
    throw new KeyMismatchError(
      `run ${spec.hypothesisId} seed ${spec.seed} [${
        spec.overrides.join(" ")
      }]: this machine computes run key ${
        prepared.key.slice(0, 12)
      }, the plan says ${
        spec.key.slice(0, 12)
      } (different engine, onnxruntime or corpus): refusing to run it`,
    );
  }
  return (await runHypothesisDetailed(h, runOptions)).record;
}
