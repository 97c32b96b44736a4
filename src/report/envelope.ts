/**
 * C or P over training across several runs (replicate seeds): per recorded
 * step, the minimum, median and maximum, for the envelope plot.
 *
 * @module
 */

import { distribution } from "../verdict/rates.ts";
import type { RunRecord } from "../hypothesis/types.ts";

/** C or P over training across runs: per recorded step, min, median, max. */
export interface Envelope {
  /** Recorded steps (the union over the runs), ascending. */
  readonly step: readonly number[];
  /** Smallest value at each step. */
  readonly min: readonly number[];
  /** Median at each step. */
  readonly median: readonly number[];
  /** Largest value at each step. */
  readonly max: readonly number[];
  /** How many runs recorded each step. */
  readonly n: readonly number[];
}

/**
 * The envelope of one trajectory quantity across runs: at each step any run
 * recorded, the minimum, median and maximum of the runs that recorded it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envelopeOf } from "./envelope.ts";
 * import type { RunRecord } from "../hypothesis/types.ts";
 * // Only the trajectory is read: two runs' C at steps 0, 5 and 10.
 * const run = (C: number[]) =>
 *   ({ trajectory: { step: [0, 5, 10], C } }) as unknown as RunRecord;
 * const e = envelopeOf([run([1, 1, 2]), run([1, 3, 4])], (r) => r.trajectory.C);
 * assert.deepEqual(e.min, [1, 1, 2]);
 * assert.deepEqual(e.max, [1, 3, 4]);
 * assert.deepEqual(e.median, [1, 2, 3]);
 * assert.deepEqual(e.n, [2, 2, 2]);
 * ```
 */
export function envelopeOf(
  runs: readonly RunRecord[],
  pick: (r: RunRecord) => readonly number[],
): Envelope {
  const at = new Map<number, number[]>();
  for (const r of runs) {
    const values = pick(r);
    r.trajectory.step.forEach((s, i) => {
      const v = values[i];
      if (!Number.isFinite(v)) return;
      const list = at.get(s);
      if (list) list.push(v);
      else at.set(s, [v]);
    });
  }
  const step = [...at.keys()].sort((a, b) => a - b);
  const d = step.map((s) => distribution(at.get(s)!));
  return {
    step,
    min: d.map((x) => x.min),
    median: d.map((x) => x.median),
    max: d.map((x) => x.max),
    n: d.map((x) => x.n),
  };
}

/**
 * An envelope reduced to the steps where something changes (and the first
 * and last): drawn stepped, it is the same picture with far fewer points.
 */
export function changesOnly(e: Envelope): Envelope {
  const keep = e.step.map((_, i) => i).filter((i) =>
    i === 0 || i === e.step.length - 1 || e.min[i] !== e.min[i - 1] ||
    e.median[i] !== e.median[i - 1] || e.max[i] !== e.max[i - 1]
  );
  const pick = (v: readonly number[]) => keep.map((i) => v[i]);
  return {
    step: pick(e.step),
    min: pick(e.min),
    median: pick(e.median),
    max: pick(e.max),
    n: pick(e.n),
  };
}
