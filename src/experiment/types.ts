/**
 * The vocabulary of experiments: a hypothesis (what is asked and expected), a
 * tier (how much of the run is executed) and a run record (what happened).
 * Run records are plain JSON so reports can be regenerated from the cache
 * without touching an engine.
 *
 * @module
 */

import type { TrainConfig } from "../train/config.ts";
import type { BackendName } from "../runtime/engine.ts";

/** A hypothesis's predicted or observed outcome. */
export type Verdict = "null" | "positive";

/** How much of a run to execute. */
export type Tier = "smoke" | "full";

/** Exact black-hole numbers recorded from one deterministic run. */
export interface RecordedOutcome {
  /** Distinct vectors shared by >= 2 tokens. */
  readonly C: number;
  /** Tokens in those clusters. */
  readonly P: number;
  /** Cluster sizes, largest first. */
  readonly populations: readonly number[];
  /** Backend whose arithmetic produced these numbers (exact per backend). */
  readonly backend: BackendName;
  /** Steps that had run. */
  readonly steps: number;
  readonly tier: Tier;
  /** Verdict these numbers give (by the seed notebooks' rule). */
  readonly verdict: Verdict;
  /**
   * Allowed absolute deviation of C and P when re-run on the same backend
   * (0: exact; only chaotic, noise-driven runs need more).
   */
  readonly tolerance?: { readonly C: number; readonly P: number };
  /** Engine code fingerprint the numbers were recorded with. */
  readonly engineCode: string;
}

/** One hypothesis, declared in `hypotheses/<id>.ts`. */
export interface Hypothesis {
  /** Stable identifier, e.g. `11.2b-jiggling`. */
  readonly id: string;
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
  readonly expectation: {
    readonly verdict: Verdict;
    readonly reasoning: string;
  };
  /** Steps of the smoke tier (a prefix of the full run) and why they suffice. */
  readonly smoke: { readonly steps: number; readonly justification: string };
  /** Exact outcomes recorded from earlier runs, by tier, for the CI gate. */
  readonly recorded?: Partial<Record<Tier, RecordedOutcome>>;
  /** Seeds' own numbers, when the hypothesis reproduces a seed notebook. */
  readonly seedResult?: {
    readonly C: number;
    readonly P: number;
    readonly populations: readonly number[];
    readonly source: string;
  };
  /**
   * Replicates: the same run with these seeds; the verdict must be reached in
   * at least `minAgreeing` of them.
   */
  readonly replicates?: {
    readonly seeds: readonly number[];
    readonly minAgreeing: number;
  };
  /** What was observed, in prose (filled in after the full run). */
  readonly findings?: string;
}

/** One cluster of bit-identical embedding rows. */
export interface ClusterRecord {
  readonly population: number;
  /** Token ids, ascending. */
  readonly tokens: readonly number[];
}

/** C and P (and centroid norm) at recorded steps. */
export interface TrajectoryRecord {
  readonly step: readonly number[];
  readonly C: readonly number[];
  readonly P: readonly number[];
  readonly centroidNorm: readonly number[];
  /**
   * First recorded step where the dead tokens no longer share one vector
   * (null: never).
   */
  readonly firstSplit: number | null;
  /** First recorded step where P fell below the dead-token count. */
  readonly firstEscape: number | null;
}

/** Everything a run produced that reports and gates need. */
export interface RunRecord {
  /** Record format version. */
  readonly format: 1;
  readonly hypothesisId: string;
  readonly tier: Tier;
  /** Seed of this replicate. */
  readonly seed: number;
  /** Cache key: hash of config, steps, corpus and engine code version. */
  readonly key: string;
  readonly configHash: string;
  readonly config: TrainConfig;
  readonly steps: number;
  readonly corpus: {
    readonly path: string;
    readonly sha256: string;
    readonly bytes: number;
    readonly deadTokens: readonly number[];
  };
  readonly backend: BackendName;
  readonly engine: string;
  readonly backendReason: string;
  readonly versions: {
    readonly deno: string;
    readonly onnxruntime: string;
    readonly engineCode: string;
  };
  readonly wallMs: number;
  /** Per-step training loss and pre-clip gradient norm. */
  readonly loss: readonly number[];
  readonly gradNorm: readonly number[];
  readonly trajectory: TrajectoryRecord;
  readonly final: {
    readonly C: number;
    readonly P: number;
    readonly clusters: readonly ClusterRecord[];
    readonly centroidNorm: number;
    /** Norm of (final centroid - step-0 centroid). */
    readonly displacement: number;
    /** SHA-256 of the final embedding's bytes in its stored dtype. */
    readonly embeddingSha256: string;
  };
  readonly verdict: Verdict;
  /** Embedding history file (safetensors), relative to the cache root. */
  readonly historyFile: string | null;
  /** ISO timestamp of when the run finished (provenance only). */
  readonly finishedAt: string;
}
