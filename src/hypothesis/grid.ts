/**
 * A hypothesis's grid of runs: its replicate seeds (its own seed first) and
 * its sweep points (the cartesian product of its sweep axes), each point
 * named by a stable label.
 *
 * @module
 */

import { type Override, overrideText, parseOverride } from "./overrides.ts";
import type { Hypothesis } from "./types.ts";

/** Seeds of a hypothesis's replicates, its own seed first. */
export function replicateSeeds(h: Hypothesis): number[] {
  const r = h.replicates;
  if (!r) return [h.config.seed];
  if (r.seeds) return [...new Set([h.config.seed, ...r.seeds])];
  const seeds = [h.config.seed];
  for (let s = 1; seeds.length < (r.count ?? 1); s++) {
    if (s !== h.config.seed) seeds.push(s);
  }
  return seeds;
}

/**
 * The sweep grid as lists of overrides (the cartesian product of the axes,
 * first axis slowest); `[[]]` without a sweep.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sweepPoints } from "./grid.ts";
 * import { SEED_RUN } from "../step/config.ts";
 * const h = { config: SEED_RUN, sweep: [{ path: "noise.scale", values: [1e-8, 1e-7] }] };
 * assert.deepEqual(
 *   sweepPoints(h as never).map((p) => p.map((o) => `${o.path}=${o.value}`)),
 *   [["noise.scale=1e-8"], ["noise.scale=1e-7"]],
 * );
 * ```
 */
export function sweepPoints(h: Hypothesis): Override[][] {
  let points: Override[][] = [[]];
  for (const axis of h.sweep ?? []) {
    const next: Override[][] = [];
    for (const p of points) {
      for (const v of axis.values) {
        next.push([...p, parseOverride(`${axis.path}=${String(v)}`)]);
      }
    }
    points = next;
  }
  return points;
}

/** A stable label of a sweep point (`""` without a sweep). */
export function pointLabel(overrides: readonly Override[]): string {
  return overrides.map(overrideText).join(" ");
}
