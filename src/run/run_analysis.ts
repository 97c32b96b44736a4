/**
 * Black-hole analysis of a run while it trains: C, P and the centroid norm
 * of every recorded embedding, the first step at which the dead tokens split
 * apart or escape, and at the end the record's final numbers and verdict.
 * Its state goes into each checkpoint, so a resumed run ends with the same
 * trajectory as an uninterrupted one.
 *
 * @module
 */

import { findBlackHolesFloat32 } from "../analysis/black_holes.ts";
import { centroid, centroidNorm } from "../analysis/embedding_stats.ts";
import type { RunCheckpoint } from "../history/checkpoint.ts";
import { sha256Hex } from "../hypothesis/run_key.ts";
import type {
  FinalRecord,
  TrajectoryRecord,
  Verdict,
} from "../hypothesis/types.ts";
import { verdictOf } from "../verdict/verdict.ts";

/**
 * Number of distinct vectors the dead tokens occupy: 1 while they form one
 * black hole; each dead token outside every cluster counts on its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deadGroups } from "./run_analysis.ts";
 * const dead = new Set([1, 2, 3]);
 * assert.equal(deadGroups([{ tokens: [0, 1, 2, 3] }], dead), 1);
 * assert.equal(deadGroups([{ tokens: [1, 2] }], dead), 2); // 3 escaped
 * ```
 */
export function deadGroups(
  clusters: readonly { tokens: readonly number[] }[],
  dead: ReadonlySet<number>,
): number {
  let groups = 0, clustered = 0;
  for (const c of clusters) {
    const n = c.tokens.filter((t) => dead.has(t)).length;
    if (n > 0) groups++;
    clustered += n;
  }
  return groups + (dead.size - clustered);
}

/** What of a {@link RunAnalysis} a checkpoint keeps. */
export type AnalysisState = Pick<
  RunCheckpoint,
  "trajectory" | "firstSplit" | "firstEscape" | "firstEmbedding"
>;

/** A run's final numbers and the verdict they give. */
export interface AnalysisResult {
  /** The record's `final` field. */
  readonly final: FinalRecord;
  /** The verdict by the seeds' rule. */
  readonly verdict: Verdict;
}

/**
 * Follows one run's embeddings: {@link RunAnalysis.observe} each recorded
 * one in step order, then {@link RunAnalysis.trajectory} and
 * {@link RunAnalysis.result} give the record's fields.
 *
 * @example Three dead tokens in one hole at step 0; one escapes at step 1
 * ```ts
 * import assert from "node:assert/strict";
 * import { RunAnalysis } from "./run_analysis.ts";
 * const a = new RunAnalysis(4, 1, [1, 2, 3]);
 * a.observe(0, new Float32Array([5, 0, 0, 0]));
 * a.observe(1, new Float32Array([5, 0, 0, 1]));
 * const t = a.trajectory();
 * assert.deepEqual([t.C, t.P], [[1, 1], [3, 2]]);
 * assert.equal(t.firstSplit, 1);
 * assert.equal(t.firstEscape, 1);
 * const { final, verdict } = await a.result((wte) => new Uint8Array(wte.buffer));
 * assert.equal(final.P, 2);
 * assert.equal(verdict, "positive");
 * ```
 */
export class RunAnalysis {
  readonly #rows: number;
  readonly #cols: number;
  readonly #dead: ReadonlySet<number>;
  readonly #trajectory = {
    step: [] as number[],
    C: [] as number[],
    P: [] as number[],
    centroidNorm: [] as number[],
  };
  #firstSplit: number | null = null;
  #firstEscape: number | null = null;
  // The first and latest embeddings observed (the trainer hands over fresh
  // copies, so keeping them is safe).
  #first?: Float32Array;
  #last?: Float32Array;

  /**
   * Analyses embeddings of `rows` x `cols` for a corpus whose dead tokens
   * are `deadTokens`, continuing from `resume` (a checkpoint's state) when
   * given.
   */
  constructor(
    rows: number,
    cols: number,
    deadTokens: readonly number[],
    resume?: AnalysisState,
  ) {
    this.#rows = rows;
    this.#cols = cols;
    this.#dead = new Set(deadTokens);
    if (resume) {
      const t = this.#trajectory;
      t.step.push(...resume.trajectory.step);
      t.C.push(...resume.trajectory.C);
      t.P.push(...resume.trajectory.P);
      t.centroidNorm.push(...resume.trajectory.centroidNorm);
      this.#firstSplit = resume.firstSplit;
      this.#firstEscape = resume.firstEscape;
      this.#first = resume.firstEmbedding;
    }
  }

  /** Records the embedding `wte` after `step` (0: before training). */
  observe(step: number, wte: Float32Array): void {
    const rows = this.#rows, cols = this.#cols;
    const bh = findBlackHolesFloat32(wte, rows, cols);
    const t = this.#trajectory;
    t.step.push(step);
    t.C.push(bh.C);
    t.P.push(bh.P);
    t.centroidNorm.push(centroidNorm(wte, rows, cols));
    if (
      step > 0 && this.#firstSplit === null &&
      deadGroups(bh.clusters, this.#dead) > 1
    ) {
      this.#firstSplit = step;
    }
    if (step > 0 && this.#firstEscape === null && bh.P < this.#dead.size) {
      this.#firstEscape = step;
    }
    this.#first ??= wte;
    this.#last = wte;
  }

  /** The state a checkpoint keeps; only after the first observation. */
  state(): AnalysisState {
    if (!this.#first) throw new Error("no embedding was observed yet");
    return {
      trajectory: this.#trajectory,
      firstSplit: this.#firstSplit,
      firstEscape: this.#firstEscape,
      firstEmbedding: this.#first,
    };
  }

  /** The record's `trajectory` field so far. */
  trajectory(): TrajectoryRecord {
    return {
      ...this.#trajectory,
      firstSplit: this.#firstSplit,
      firstEscape: this.#firstEscape,
    };
  }

  /**
   * The final numbers of the last embedding observed (its digest taken over
   * `toBytes` of it, the history's encoding) and their verdict.
   */
  async result(
    toBytes: (wte: Float32Array) => Uint8Array,
  ): Promise<AnalysisResult> {
    if (!this.#first || !this.#last) {
      throw new Error("no embedding was recorded");
    }
    const rows = this.#rows, cols = this.#cols;
    const last = this.#last;
    const bh = findBlackHolesFloat32(last, rows, cols);
    const c0 = centroid(this.#first, rows, cols);
    const c1 = centroid(last, rows, cols);
    const final: FinalRecord = {
      C: bh.C,
      P: bh.P,
      clusters: bh.clusters.map((c) => ({
        population: c.population,
        tokens: c.tokens,
      })),
      nonFinite: bh.nonFinite,
      centroidNorm: centroidNorm(last, rows, cols),
      displacement: Math.hypot(...c1.map((v, i) => v - c0[i])),
      embeddingSha256: await sha256Hex(toBytes(last)),
    };
    return { final, verdict: verdictOf(bh, this.#dead.size) };
  }
}
