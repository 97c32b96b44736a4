/**
 * Which runs a hypothesis's claims count: its declared replicate seeds (the
 * full tier's and the smoke tier's). Records of other seeds (`run --seed
 * 4294967296`) are ad-hoc: shown apart, never part of a rate, so a claim of
 * "null in 8/8 seeds" cannot quietly become "20/20".
 *
 * @module
 */

import { replicateSeeds } from "../hypothesis/grid.ts";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";

/** Seeds a hypothesis declares at any tier, its own seed included. */
export function declaredSeeds(h: Hypothesis): Set<number> {
  return new Set([...replicateSeeds(h), ...(h.replicates?.smoke?.seeds ?? [])]);
}

/**
 * `runs` split into those of declared seeds (order kept) and ad-hoc ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeHypothesis, makeReplicate } from "../testing/records.ts";
 * import { splitDeclared } from "./declared.ts";
 * const h = makeHypothesis({ replicates: { count: 2 } });
 * const { declared, adHoc } = splitDeclared(h, [
 *   makeReplicate(42, { C: 1, P: 4 }),
 *   makeReplicate(1, { C: 1, P: 4 }),
 *   makeReplicate(4294967296, { C: 1, P: 4 }),
 * ]);
 * assert.deepEqual(declared.map((r) => r.seed), [42, 1]);
 * assert.deepEqual(adHoc.map((r) => r.seed), [4294967296]);
 * ```
 */
export function splitDeclared<R extends RunRecord>(
  h: Hypothesis,
  runs: readonly R[],
): { declared: R[]; adHoc: R[] } {
  const seeds = declaredSeeds(h);
  return {
    declared: runs.filter((r) => seeds.has(r.seed)),
    adHoc: runs.filter((r) => !seeds.has(r.seed)),
  };
}
