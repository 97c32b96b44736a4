/**
 * What a caller can ask of a run: tier, seed, backend, overrides, where its
 * record and artefacts go, checkpoints and callbacks. Shared by the step that
 * identifies a run (`prepare.ts`) and the one that trains it (`run.ts`).
 *
 * @module
 */

import type { BackendName } from "../runtime/engine.ts";
import type { StepInfo } from "../runtime/trainer.ts";
import type { CheckpointStore } from "../history/checkpoint.ts";
import type { Override } from "../hypothesis/overrides.ts";
import type { Tier } from "../hypothesis/types.ts";

/** Options of `runHypothesis` and `prepareRun`. */
export interface RunOptions {
  /** Tier to run: `smoke` (a short prefix of the run) or `full`. */
  readonly tier: Tier;
  /** Replicate seed; default: the hypothesis config's seed. */
  readonly seed?: number;
  /** Override the tier's step count (must not exceed maxSteps). */
  readonly steps?: number;
  /** Backend to train on; default `auto` (see `selectBackend`). */
  readonly backend?: BackendName | "auto";
  /** Config overrides (`--set`), applied after the seed. */
  readonly overrides?: readonly Override[];
  /** Reuse a record with the same key when present (default true). */
  readonly useCache?: boolean;
  /** Write the record to `recordsDir` (default true). */
  readonly saveRecord?: boolean;
  /**
   * Default: `reports/data`, or `.cache/records` for a variant run (with
   * overrides or another corpus).
   */
  readonly recordsDir?: string;
  /** Where histories, traces and checkpoints go; default `CACHE_DIR`. */
  readonly cacheDir?: string;
  /** Record the embedding every k steps (default 1: every step). */
  readonly historyEvery?: number;
  /** Write the embedding history file (default true). */
  readonly writeHistory?: boolean;
  /** Also write a replay trace (initial params, offsets, noise, loss). */
  readonly trace?: boolean;
  /** Corpus file to train on; default `DEFAULT_CORPUS`. */
  readonly corpusPath?: string;
  /**
   * Intra-op threads of the cpu engine (default: all cores); never changes the
   * numbers.
   */
  readonly threads?: number;
  /** Called after every training step. */
  readonly onStep?: (info: StepInfo) => void | Promise<void>;
  /**
   * Save a checkpoint every `every` steps to `store` and resume from the one
   * found there; the resumed run ends bit-identical to an uninterrupted one.
   */
  readonly checkpoints?: {
    readonly store: CheckpointStore;
    readonly every: number;
  };
  /** Told why a cached record was not used, or what it lacks. */
  readonly onNote?: (note: string) => void;
  /**
   * Stops training after the current step; the run then throws
   * `RunStoppedError` and records nothing.
   */
  readonly signal?: AbortSignal;
  /**
   * Replicates trained together with this run in one graph (see
   * `runPackedDetailed`; default 1). Part of the run key only on backends
   * whose replicates differ from solo runs.
   */
  readonly replicas?: number;
  /**
   * Measures the free bytes of an existing folder's file system (and names
   * the file system) before the run writes; default: `statfs`. Tests pass a
   * fake.
   */
  readonly freeSpace?: (
    dir: string,
  ) => Promise<{ readonly device: number | string; readonly free: number }>;
}
