/**
 * Executes one {@link RunSpec}, or a pack of them trained as replicates of
 * one graph, anywhere (this process, a pool worker, a queue worker on
 * another machine): resolves the hypothesis and overrides, checks that this
 * machine computes the same run key as the planner (same graph, host
 * streams, onnxruntime, analysis, and the pack size where it counts), trains
 * with periodic checkpoints, reports each run's {@link RunEvent}s and
 * returns the records.
 *
 * @module
 */

import { hypothesisById } from "../../hypotheses/mod.ts";
import { parseOverride } from "../hypothesis/overrides.ts";
import type { RunSpec } from "./plan.ts";
import { prepareRun } from "../run/prepare.ts";
import {
  type PackedRun,
  runPackedDetailed,
  RunStoppedError,
} from "../run/run.ts";
import type { RunOptions } from "../run/run_options.ts";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";
import type { CheckpointStore } from "../history/checkpoint.ts";
import { DivergedError } from "../runtime/divergence.ts";
import type { RunEnd, RunEvent } from "./events.ts";

/**
 * Options of {@link executeRuns}: the {@link RunOptions} every run of a
 * pack shares (the spec gives the rest), each run's checkpoints, and one
 * event callback for all of them.
 */
export interface ExecuteOptions extends
  Pick<
    RunOptions,
    | "threads"
    | "signal"
    | "saveRecord"
    | "writeHistory"
    | "recordsDir"
    | "cacheDir"
    | "useCache"
  > {
  /**
   * Told everything that happens to every run. A promise it returns for a
   * `progress` event is awaited before training goes on (a queue worker
   * lets its sockets be read there).
   */
  readonly onEvent?: (event: RunEvent) => void | Promise<void>;
  /** Each spec's checkpoint store, and the interval (steps) they share. */
  readonly checkpoints?: {
    readonly store: (spec: RunSpec, index: number) => CheckpointStore;
    readonly every: number;
  };
  /**
   * Finds a spec's hypothesis (default `hypothesisById`; tests run
   * hypotheses that are not in `hypotheses/mod.ts`).
   */
  readonly hypothesis?: (id: string) => Hypothesis;
}

/** This machine computes another run key than the spec's. */
export class KeyMismatchError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "KeyMismatchError";
}

/** How one spec of {@link executeRuns} ended: its record, or why not. */
export type ExecuteResult =
  | { readonly ok: true; readonly record: RunRecord; readonly replicas: number }
  | { readonly ok: false; readonly error: unknown };

/** What trains a pack of specs: {@link executeRuns} or a test's fake. */
export type ExecutePack = (
  specs: readonly RunSpec[],
  options: ExecuteOptions,
) => Promise<ExecuteResult[]>;

/**
 * Runs a pack of specs as replicates of one graph where they can share one
 * (see `runPackedDetailed`), each with its own checkpoints and record, and
 * reports every run's events (`started`, `progress`, `checkpointed`,
 * `note`, then its end). Every spec's key is checked first: one that this
 * machine would compute differently fails the whole pack with a
 * {@link KeyMismatchError} before anything trains. Returns one result per
 * spec, in order; a run that diverges or fails does so alone.
 */
export async function executeRuns(
  specs: readonly RunSpec[],
  options: ExecuteOptions = {},
): Promise<ExecuteResult[]> {
  const { onEvent, checkpoints, hypothesis, ...shared } = options;
  const find = hypothesis ?? hypothesisById;
  const emit = onEvent ?? (() => {});
  const runs = specs.map((spec, index): PackedRun => {
    // The trainer saves a checkpoint right after its step's onStep.
    let step = 0;
    const store = checkpoints?.store(spec, index);
    const options: RunOptions = {
      ...shared,
      tier: spec.tier,
      seed: spec.seed,
      backend: spec.backend,
      overrides: spec.overrides.map(parseOverride),
      replicas: spec.replicas,
      onStep: (info) => {
        step = info.step;
        const { steps, loss } = info;
        return emit({ type: "progress", spec, step, steps, loss });
      },
      onNote: (text) => void emit({ type: "note", spec, text }),
      checkpoints: checkpoints && store && {
        store: {
          name: store.name,
          load: () => store.load(),
          clear: () => store.clear(),
          sealKey: store.sealKey && (() => store.sealKey!()),
          async save(bytes) {
            await store.save(bytes);
            await emit({ type: "checkpointed", spec, step });
          },
        },
        every: checkpoints.every,
      },
    };
    return { hypothesis: find(spec.hypothesisId), options };
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
  for (const spec of specs) await emit({ type: "started", spec });
  const outcomes = await runPackedDetailed(runs, {
    threads: shared.threads,
    signal: shared.signal,
  });
  const results = outcomes.map((o): ExecuteResult =>
    o.ok
      ? { ok: true, record: o.outcome.record, replicas: o.outcome.replicas }
      : { ok: false, error: o.error }
  );
  for (const [i, r] of results.entries()) await emit(endOf(specs[i], r));
  return results;
}

/** The last event of a run that ended with `result`. */
function endOf(spec: RunSpec, result: ExecuteResult): RunEnd {
  if (result.ok) {
    const { record, replicas } = result;
    return { type: "finished", spec, record, replicas };
  }
  const error = result.error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DivergedError) {
    return { type: "diverged", spec, message };
  }
  if (error instanceof RunStoppedError) {
    return { type: "stopped", spec, message };
  }
  return { type: "failed", spec, message };
}

/** Runs one spec and returns its record (see module doc). */
export async function executeRun(
  spec: RunSpec,
  options: ExecuteOptions = {},
): Promise<RunRecord> {
  const [result] = await executeRuns([spec], options);
  if (!result.ok) throw result.error;
  return result.record;
}
