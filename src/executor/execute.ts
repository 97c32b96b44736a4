/**
 * Executes one {@link RunSpec}, or a pack of them trained as replicates of
 * one graph, anywhere (this process, a pool worker, a queue worker on
 * another machine): resolves the hypothesis and overrides, checks that this
 * machine computes the same run key as the planner (same graph, host
 * streams, onnxruntime, analysis, and the pack size where it counts), trains
 * with periodic checkpoints, and returns the records.
 *
 * @module
 */

import { hypothesisById } from "../../hypotheses/mod.ts";
import type { StepInfo } from "../runtime/trainer.ts";
import { parseOverride } from "../hypothesis/overrides.ts";
import type { RunSpec } from "./plan.ts";
import { prepareRun } from "../run/prepare.ts";
import { type PackedRun, runPackedDetailed } from "../run/run.ts";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";
import type { CheckpointStore } from "../history/checkpoint.ts";

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
  /**
   * Finds a spec's hypothesis (default `hypothesisById`; tests run
   * hypotheses that are not in `hypotheses/mod.ts`).
   */
  readonly hypothesis?: (id: string) => Hypothesis;
}

/** This machine computes another run key than the spec's. */
export class KeyMismatchError extends Error {
  override name = "KeyMismatchError";
}

/** Options of {@link executeRuns}: {@link ExecuteOptions}, per spec where a run needs its own. */
export interface ExecuteRunsOptions
  extends Omit<ExecuteOptions, "onStep" | "onNote" | "checkpoints"> {
  /** Called after every training step of spec `index`. */
  readonly onStep?: (
    index: number,
    info: StepInfo,
  ) => void | Promise<void>;
  /** Told about spec `index` (cache misses, resumes, ...). */
  readonly onNote?: (index: number, note: string) => void;
  /** Each spec's checkpoint store, and the interval (steps) they share. */
  readonly checkpoints?: {
    readonly store: (spec: RunSpec, index: number) => CheckpointStore;
    readonly every: number;
  };
}

/** How one spec of {@link executeRuns} ended: its record, or why not. */
export type ExecuteResult =
  | { readonly ok: true; readonly record: RunRecord; readonly replicas: number }
  | { readonly ok: false; readonly error: unknown };

/**
 * Runs a pack of specs as replicates of one graph where they can share one
 * (see `runPackedDetailed`), each with its own checkpoints, callbacks and
 * record. Every spec's key is checked first: one that this machine would
 * compute differently fails the whole pack with a {@link KeyMismatchError}
 * before anything trains. Returns one result per spec, in order; a run
 * that diverges or fails does so alone.
 */
export async function executeRuns(
  specs: readonly RunSpec[],
  options: ExecuteRunsOptions = {},
): Promise<ExecuteResult[]> {
  const find = options.hypothesis ?? hypothesisById;
  const runs = specs.map((spec, index): PackedRun => {
    const checkpoints = options.checkpoints;
    const { onStep, onNote } = options;
    return {
      hypothesis: find(spec.hypothesisId),
      options: {
        tier: spec.tier,
        seed: spec.seed,
        backend: spec.backend,
        overrides: spec.overrides.map(parseOverride),
        replicas: spec.replicas,
        threads: options.threads,
        signal: options.signal,
        onStep: onStep && ((info) => onStep(index, info)),
        onNote: onNote && ((note) => onNote(index, note)),
        saveRecord: options.saveRecord,
        writeHistory: options.writeHistory,
        recordsDir: options.recordsDir,
        cacheDir: options.cacheDir,
        useCache: options.useCache,
        checkpoints: checkpoints && {
          store: checkpoints.store(spec, index),
          every: checkpoints.every,
        },
      },
    };
  });
  for (const [i, spec] of specs.entries()) {
    const prepared = await prepareRun(runs[i].hypothesis, runs[i].options);
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
  }
  const outcomes = await runPackedDetailed(runs, {
    threads: options.threads,
    signal: options.signal,
  });
  return outcomes.map((o) =>
    o.ok
      ? { ok: true, record: o.outcome.record, replicas: o.outcome.replicas }
      : { ok: false, error: o.error }
  );
}

/** Runs one spec and returns its record (see module doc). */
export async function executeRun(
  spec: RunSpec,
  options: ExecuteOptions = {},
): Promise<RunRecord> {
  const { onStep, onNote, checkpoints } = options;
  const [result] = await executeRuns([spec], {
    ...options,
    onStep: onStep && ((_, info) => onStep(info)),
    onNote: onNote && ((_, note) => onNote(note)),
    checkpoints: checkpoints && {
      store: () => checkpoints.store,
      every: checkpoints.every,
    },
  });
  if (!result.ok) throw result.error;
  return result.record;
}
