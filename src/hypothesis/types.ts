/**
 * The vocabulary of experiments: a hypothesis (what is asked and expected), a
 * tier (how much of the run is executed) and a run record (what happened).
 * Run records are plain JSON so reports can be regenerated from the cache
 * without touching an engine.
 *
 * @module
 */

import type { Divergence } from "../runtime/divergence.ts";
import type { BackendName } from "../runtime/engine.ts";
import type { TrainConfig } from "../step/config.ts";
import type { RunIdentity } from "./run_key.ts";

/** A hypothesis's predicted outcome, or a completed run's observed one. */
export type Verdict = "null" | "positive";

/**
 * What a run record says: a {@link Verdict} for a run that completed, or
 * `invalid` for one that diverged (it earned no verdict).
 */
export type RunVerdict = Verdict | "invalid";

/** How a recorded run ended. */
export type RunStatus = "complete" | "diverged";

/** How much of a run to execute. */
export type Tier = "smoke" | "full";

/**
 * Seeds a hypothesis runs: `seeds` listed, or `count` seeds (the config's
 * own seed, then 1, 2, ...). `smoke` chooses the seeds the CI gate runs at
 * the smoke tier, with the reason.
 */
export interface Replicates {
  /** Seeds to run besides the config's own (which always runs, first). */
  readonly seeds?: readonly number[];
  /**
   * Number of seeds in all, the config's own included (ignored when `seeds` is
   * given).
   */
  readonly count?: number;
  /** The smoke tier's replicates. */
  readonly smoke?: {
    /** Seeds run at the smoke tier. */
    readonly seeds: readonly number[];
    /** Sweep points (labels, see `plan.ts`) run at the smoke tier; default none. */
    readonly points?: readonly string[];
    /** Why these seeds (and points) are enough for the smoke gate. */
    readonly why: string;
  };
}

/** One axis of a sweep: a dotted config path and its values. */
export interface SweepAxis {
  /**
   * Dotted path into the {@link TrainConfig}, as in `run --set` (e.g.
   * `noise.scale`).
   */
  readonly path: string;
  /** The values the axis takes, in the order they are run. */
  readonly values: readonly (number | string | boolean)[];
}

/**
 * What is predicted before running. `verdict` is the prediction for the
 * hypothesis's own config; `rate` a share of seeds (e.g. positive in at
 * least 0.8 of them); `boundary` where a swept value switches the verdict.
 */
export interface Expectation {
  /** Predicted verdict of the hypothesis's own config. */
  readonly verdict: Verdict;
  /** Why this outcome is expected (Markdown). */
  readonly reasoning: string;
  /** At least `atLeast` (a share in [0, 1]) of the seeds reach `verdict`. */
  readonly rate?: { readonly verdict: Verdict; readonly atLeast: number };
  /** Where a swept value switches the verdict from null to positive. */
  readonly boundary?: {
    /** Dotted config path of the swept axis (one of `sweep`). */
    readonly path: string;
    /** Null at and below this value. */
    readonly nullAtOrBelow: number;
    /** Positive at and above this value. */
    readonly positiveAtOrAbove: number;
  };
}

/** One hypothesis, declared in `hypotheses/<id>.ts`. */
export interface Hypothesis {
  /** Stable identifier, e.g. `11.2b-jiggling`. */
  readonly id: string;
  /** One-line title of the hypothesis. */
  readonly title: string;
  /** The question in one or two sentences. */
  readonly question: string;
  /** Why it is asked (the researcher's words, Markdown). */
  readonly background: string;
  /** What is varied against what control (Markdown). */
  readonly design: string;
  /** The full-tier run. */
  readonly config: TrainConfig;
  /** Predicted before running, with the reasoning. */
  readonly expectation: Expectation;
  /**
   * Steps of the full tier when it is a prefix of the schedule rather than
   * all `config.maxSteps` (the LR schedule still spans maxSteps), and why
   * they suffice.
   */
  readonly fullSteps?: {
    /** Number of steps run. */
    readonly steps: number;
    /** Why these steps suffice. */
    readonly justification: string;
  };
  /** Steps of the smoke tier (a prefix of the full run) and why they suffice. */
  readonly smoke: { readonly steps: number; readonly justification: string };
  /** Seeds' own numbers, when the hypothesis reproduces a seed notebook. */
  readonly seedResult?: {
    /** Number of clusters the seed notebook reported. */
    readonly C: number;
    /** Number of rows in clusters the seed notebook reported. */
    readonly P: number;
    /** Cluster populations the seed notebook reported. */
    readonly populations: readonly number[];
    /** Where those numbers come from (notebook, cell). */
    readonly source: string;
  };
  /**
   * Replicates: the same run (and every sweep point) with these seeds. The
   * claim is then a rate over seeds (see `rates.ts`).
   */
  readonly replicates?: Replicates;
  /** A grid over config paths (the `run --set` syntax); every point runs every seed. */
  readonly sweep?: readonly SweepAxis[];
  /** Id of the hypothesis this one is compared against, side by side. */
  readonly control?: string;
  /** What was observed, in prose (filled in after the full run). */
  readonly findings?: string;
}

/** One cluster of bit-identical embedding rows. */
export interface ClusterRecord {
  /** Number of rows holding this vector (at least 2). */
  readonly population: number;
  /** Token ids, ascending. */
  readonly tokens: readonly number[];
}

/** C and P (and centroid norm) at recorded steps. */
export interface TrajectoryRecord {
  /** Step of each recorded embedding (0 is the initial one), ascending. */
  readonly step: readonly number[];
  /** Number of clusters at each recorded step. */
  readonly C: readonly number[];
  /** Number of rows in clusters at each recorded step. */
  readonly P: readonly number[];
  /** L2 norm of the mean embedding row at each recorded step. */
  readonly centroidNorm: readonly number[];
  /**
   * First recorded step where the dead tokens no longer share one vector
   * (null: never).
   */
  readonly firstSplit: number | null;
  /** First recorded step where P fell below the dead-token count. */
  readonly firstEscape: number | null;
}

/** The embedding history file a record points at, with what it must hold. */
export interface HistoryFileRecord {
  /** Path relative to the cache root (`.cache/`). */
  readonly file: string;
  /** Size of the file in bytes. */
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the file. */
  readonly sha256: string;
}

/** The black-hole numbers at the end of a completed run. */
export interface FinalRecord {
  /** Number of clusters: distinct row vectors shared by at least two rows. */
  readonly C: number;
  /** Number of embedding rows (tokens) in clusters. */
  readonly P: number;
  /** The clusters, by population descending. */
  readonly clusters: readonly ClusterRecord[];
  /** Rows holding NaN or Infinity (never part of a cluster). */
  readonly nonFinite: readonly number[];
  /** L2 norm of the final embedding's mean row. */
  readonly centroidNorm: number;
  /** Norm of (final centroid - step-0 centroid). */
  readonly displacement: number;
  /** SHA-256 of the final embedding's bytes in its stored dtype. */
  readonly embeddingSha256: string;
}

/**
 * Current {@link RunRecord} format: 3 keeps the per-step arrays in a binary
 * file beside the JSON and seals both with digests (`history/record_file.ts`);
 * 2 held them inline.
 */
export const RECORD_FORMAT = 3;

/** Everything a run produced that reports and gates need. */
export interface RunRecord {
  /** Record format version ({@link RECORD_FORMAT}). */
  readonly format: typeof RECORD_FORMAT;
  /** Id of the hypothesis that was run. */
  readonly hypothesisId: string;
  /** Tier the run was executed at. */
  readonly tier: Tier;
  /** Seed of this replicate. */
  readonly seed: number;
  /** Number of training steps run. */
  readonly steps: number;
  /** Backend the run executed on. */
  readonly backend: BackendName;
  /** Whether the run completed or diverged. */
  readonly status: RunStatus;
  /** SHA-256 of {@link RunRecord.identity}: the cache key. */
  readonly key: string;
  /** What the key is the hash of. */
  readonly identity: RunIdentity;
  /** `--set` overrides applied to the hypothesis's config (`path=value`). */
  readonly overrides: readonly string[];
  /** The effective config (after overrides). */
  readonly config: TrainConfig;
  /** The training corpus. */
  readonly corpus: {
    /** Path of the corpus file, relative to the project root when inside it. */
    readonly path: string;
    /** Lower-case hex SHA-256 of the (filtered) corpus bytes. */
    readonly sha256: string;
    /** Length of the corpus in bytes (tokens). */
    readonly bytes: number;
    /** Token ids that never occur in the corpus, ascending. */
    readonly deadTokens: readonly number[];
  };
  /** Engine and adapter description. */
  readonly engine: string;
  /** Why this backend was chosen (see `selectBackend`). */
  readonly backendReason: string;
  /** cpu intra-op threads (provenance: they do not change the numbers). */
  readonly threads: number | null;
  /** Versions of Deno and onnxruntime that ran it. */
  readonly versions: { readonly deno: string; readonly onnxruntime: string };
  /**
   * Wall-clock time of the training run in milliseconds (0 when it diverged).
   */
  readonly wallMs: number;
  /** Per-step training loss and pre-clip gradient norm (up to divergence). */
  readonly loss: readonly number[];
  /** Per-step global gradient norm before clipping (up to divergence). */
  readonly gradNorm: readonly number[];
  /** C, P and centroid norm at the recorded steps. */
  readonly trajectory: TrajectoryRecord;
  /** Final black-hole numbers; null when the run diverged. */
  readonly final: FinalRecord | null;
  /** Where and how the run diverged; null when it completed. */
  readonly divergence: Divergence | null;
  /** The verdict by the seeds' rule; `invalid` when the run diverged. */
  readonly verdict: RunVerdict;
  /** The embedding history written next to the record, if any. */
  readonly history: HistoryFileRecord | null;
  /** ISO timestamp of when the run finished (provenance only). */
  readonly finishedAt: string;
}

/** A record of a run that completed (it has final numbers and a verdict). */
export type CompleteRunRecord = RunRecord & {
  readonly status: "complete";
  readonly final: FinalRecord;
  readonly verdict: Verdict;
};

/** Whether a record is of a completed run. */
export function isComplete(r: RunRecord): r is CompleteRunRecord {
  return r.status === "complete" && r.final !== null && r.verdict !== "invalid";
}
