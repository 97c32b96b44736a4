/**
 * The runs a hypothesis asks for: every replicate seed at every sweep point,
 * each identified by its run key. A sweep and its replicates are just this
 * list; executing it (a local pool, a queue, a CI shard) skips every run
 * whose record already exists with the same key.
 *
 * @module
 */

import type { BackendName } from "../runtime/engine.ts";
import { type Override, overrideText, parseOverride } from "./overrides.ts";
import { readRecord, RecordError } from "./records.ts";
import { RECORDS_DIR } from "./locations.ts";
import { type PreparedRun, prepareRun } from "./prepare.ts";
import type { Hypothesis, RunRecord, Tier } from "./types.ts";

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
 * import { sweepPoints } from "./plan.ts";
 * import { SEED_RUN } from "../train/config.ts";
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

/** What one run of a plan is: enough to execute it anywhere. */
export interface RunSpec {
  readonly hypothesisId: string;
  readonly tier: Tier;
  readonly seed: number;
  /** Override texts (`path=value`) of the sweep point. */
  readonly overrides: readonly string[];
  readonly backend: BackendName;
  /** The run key it must produce (a worker checks it before training). */
  readonly key: string;
}

/** One planned run, with whether a record of it exists already. */
export interface PlannedRun {
  readonly spec: RunSpec;
  readonly prepared: PreparedRun;
  /** Sweep point label (`""` without a sweep). */
  readonly point: string;
  /** The existing record with this key, if any. */
  readonly record: RunRecord | null;
}

/** Options of {@link planRuns}. */
export interface PlanOptions {
  readonly tier: Tier;
  readonly backend: BackendName;
  /** Default: `reports/data` (sweep records are committed evidence too). */
  readonly recordsDir?: string;
  /** Only these seeds (default: every replicate seed). */
  readonly seeds?: readonly number[];
  /** Told about unusable existing records. */
  readonly onNote?: (note: string) => void;
}

/**
 * Every run of a hypothesis at a tier: replicate seeds x sweep points, in a
 * deterministic order (point, then seed), each with its key and record.
 */
export async function planRuns(
  h: Hypothesis,
  options: PlanOptions,
): Promise<PlannedRun[]> {
  const recordsDir = options.recordsDir ?? RECORDS_DIR;
  const seeds = options.seeds ?? replicateSeeds(h);
  const plan: PlannedRun[] = [];
  for (const overrides of sweepPoints(h)) {
    for (const seed of seeds) {
      const prepared = await prepareRun(h, {
        tier: options.tier,
        seed,
        backend: options.backend,
        overrides,
        recordsDir,
      });
      let record: RunRecord | null = null;
      try {
        record = await readRecord(prepared.recordFile);
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        options.onNote?.(`${e.message}; it will be re-run`);
      }
      if (record && record.key !== prepared.key) record = null;
      plan.push({
        spec: {
          hypothesisId: h.id,
          tier: options.tier,
          seed,
          overrides: overrides.map(overrideText),
          backend: prepared.name.backend,
          key: prepared.key,
        },
        prepared,
        point: pointLabel(overrides),
        record,
      });
    }
  }
  return plan;
}

/**
 * Shard `i` of `n` (1-based) of a plan: runs are dealt round-robin by their
 * position in the deterministic plan, so shards are disjoint and cover it.
 */
export function shardOf<T>(plan: readonly T[], i: number, n: number): T[] {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(i) || i < 1 || i > n) {
    throw new RangeError(`shard must be i/n with 1 <= i <= n, got ${i}/${n}`);
  }
  return plan.filter((_, k) => k % n === i - 1);
}
