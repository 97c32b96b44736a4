/**
 * The regression gate behind `deno test experiments/`: runs a hypothesis at
 * the selected tier and asserts (1) the verdict the test file states, (2) the
 * exact numbers recorded in `reports/data/<id>/outcomes.json` for this tier,
 * backend and seed, and (3) the loss curve against the committed full run's
 * first steps. With no recorded outcome at the tier it fails before training,
 * naming the commands that record one; a smoke run it trains is kept in the
 * cache for `deno task run` to adopt (see {@link gateRun}).
 *
 * Tier and backend come from the environment: `HORIZON_TIER=smoke|full`
 * (default smoke) and `HORIZON_BACKEND=auto|cpu|wasm|webgpu` (default cpu,
 * the backend the outcomes were recorded on).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BackendName } from "../runtime/engine.ts";
import { findOutcome, readOutcomes } from "../verdict/outcomes.ts";
import type { Override } from "../hypothesis/overrides.ts";
import { pointLabel, replicateSeeds, sweepPoints } from "../hypothesis/grid.ts";
import { readRecord, recordPath } from "../history/records.ts";
import { CACHE_DIR, RECORDS_DIR } from "../history/locations.ts";
import { keptRecordsDir } from "../history/kept_records.ts";
import { runHypothesis } from "../run/run.ts";
import type { RunOptions } from "../run/run_options.ts";
import {
  type Hypothesis,
  isComplete,
  type RunRecord,
  type Tier,
  type Verdict,
} from "../hypothesis/types.ts";
import { verdictOf } from "../verdict/verdict.ts";

/** Tier selected by HORIZON_TIER. */
export function selectedTier(): Tier {
  const t = Deno.env.get("HORIZON_TIER") ?? "smoke";
  if (t !== "smoke" && t !== "full") {
    throw new RangeError(`HORIZON_TIER must be smoke or full, got ${t}`);
  }
  return t;
}

/** Backend selected by HORIZON_BACKEND. */
export function selectedBackend(): BackendName | "auto" {
  const b = Deno.env.get("HORIZON_BACKEND") ?? "cpu";
  if (!["auto", "cpu", "wasm", "webgpu"].includes(b)) {
    throw new RangeError(`HORIZON_BACKEND must be auto, cpu, wasm or webgpu`);
  }
  return b as BackendName | "auto";
}

/**
 * Relative tolerance of the loss prefix against the committed full run. On
 * the recording backend the prefix is bit-identical; the bound leaves room
 * for another CPU's kernel choices while still catching any change to the
 * arithmetic (disabling bf16 rounding moves the loss by >1e-3 within 50
 * steps).
 */
export const LOSS_PREFIX_RTOL = 1e-4;

/** The verdict a test file states for each tier. */
export type ExpectedVerdicts = Readonly<Record<Tier, Verdict>>;

/**
 * Asserts one run against the verdict stated for its tier, the recorded
 * outcome of its tier/backend/seed, and the committed loss baseline.
 */
export async function assertRecorded(
  h: Hypothesis,
  run: RunRecord,
  expected: Verdict,
  recordsDir = RECORDS_DIR,
): Promise<void> {
  const tier = run.tier;
  assert.ok(
    isComplete(run),
    `${h.id} (${tier}): the run diverged (${
      run.divergence?.quantity ?? "?"
    } at step ${run.divergence?.step ?? "?"}); it has no verdict`,
  );
  const dead = run.corpus.deadTokens.length;
  assert.equal(run.verdict, verdictOf(run.final, dead));
  assert.equal(
    run.verdict,
    expected,
    `${h.id} (${tier}): expected ${expected}, observed ${run.verdict} (C=${run.final.C}, P=${run.final.P})`,
  );
  const outcomes = await readOutcomes(recordsDir, h.id);
  const atTier = outcomes.filter((o) => o.tier === tier);
  if (atTier.length === 0) {
    throw new Error(
      `${h.id}: no recorded ${tier} outcome; run \`deno task run ${h.id} --tier ${tier}\`, then \`deno task record ${h.id} --tier ${tier}\``,
    );
  }
  const rec = findOutcome(outcomes, tier, run.backend, run.seed);
  if (rec && rec.steps === run.steps) {
    assert.equal(
      rec.verdict,
      expected,
      `${h.id}: the recorded ${tier} outcome says ${rec.verdict}, the test expects ${expected}`,
    );
    const tol = rec.tolerance ?? { C: 0, P: 0 };
    const pops = run.final.clusters.map((c) => c.population);
    assert.ok(
      Math.abs(run.final.C - rec.C) <= tol.C &&
        Math.abs(run.final.P - rec.P) <= tol.P,
      `${h.id} (${tier}, ${run.backend}): C=${run.final.C} P=${run.final.P} ` +
        `outside the recorded C=${rec.C}±${tol.C} P=${rec.P}±${tol.P}`,
    );
    if (tol.C === 0 && tol.P === 0) {
      assert.deepEqual(
        pops,
        [...rec.populations],
        `${h.id}: populations changed`,
      );
    }
  }
  // Loss baseline: the committed full run (a smoke run is its exact prefix),
  // else the committed smoke run, of the same backend and seed.
  const name = { hypothesisId: h.id, seed: run.seed, backend: run.backend };
  const baseline =
    await readRecord(recordPath(recordsDir, { ...name, tier: "full" })) ??
      await readRecord(recordPath(recordsDir, { ...name, tier: "smoke" }));
  if (baseline) {
    let worst = 0, at = -1;
    const n = Math.min(run.loss.length, baseline.loss.length);
    for (let t = 0; t < n; t++) {
      const rel = Math.abs(run.loss[t] - baseline.loss[t]) /
        Math.abs(baseline.loss[t]);
      if (rel > worst) [worst, at] = [rel, t];
    }
    assert.ok(
      worst <= LOSS_PREFIX_RTOL,
      `${h.id}: loss at step ${
        at + 1
      } differs from the committed ${baseline.tier} run by ${
        worst.toExponential(2)
      } (relative)`,
    );
  }
}

/**
 * Fails, before anything trains, when `h` has no recorded outcome at `tier`:
 * a gate without numbers to meet has nothing to check, and says which two
 * commands give it some.
 */
export async function assertOutcomesExist(
  h: Hypothesis,
  tier: Tier,
  recordsDir = RECORDS_DIR,
): Promise<void> {
  const outcomes = await readOutcomes(recordsDir, h.id);
  if (!outcomes.some((o) => o.tier === tier)) {
    throw new Error(
      `${h.id}: no recorded ${tier} outcome (nothing was trained); run \`deno task run ${h.id} --tier ${tier}\`, then \`deno task record ${h.id} --tier ${tier}\``,
    );
  }
}

/**
 * How the gate runs: always trained (a cached record proves nothing), never
 * written to the records. A smoke run is kept with its history in the cache
 * (`kept_records.ts`), so `deno task run` of the same key adopts it instead
 * of training it again; a full run is not (its history is large).
 */
export function gateRun(tier: Tier, cacheDir = CACHE_DIR): Partial<RunOptions> {
  return tier === "smoke"
    ? {
      useCache: false,
      saveRecord: true,
      recordsDir: keptRecordsDir(cacheDir),
      cacheDir,
      writeHistory: true,
    }
    : { useCache: false, saveRecord: false, writeHistory: false };
}

/**
 * Registers the Deno tests of one hypothesis: its run at the selected tier
 * reaches `expected[tier]` and reproduces the recorded outcome; its
 * replicates (at the smoke tier, the seeds it chose for CI) reproduce theirs.
 */
export function gateHypothesis(
  h: Hypothesis,
  expected: ExpectedVerdicts,
): void {
  const tier = selectedTier();
  const backend = selectedBackend();
  const verdict = expected[tier];
  Deno.test(`${h.id}: ${tier} run is ${verdict} and reproduces its recorded outcome`, async () => {
    await assertOutcomesExist(h, tier);
    const run = await runHypothesis(h, { tier, backend, ...gateRun(tier) });
    await assertRecorded(h, run, verdict);
  });
  // Replicates: at the smoke tier the seeds the hypothesis chose for CI, at
  // the full tier all of them. Each seed must reproduce its recorded
  // outcome, so the recorded rate is reproduced too.
  const seeds = tier === "smoke"
    ? h.replicates?.smoke?.seeds.filter((s) => s !== h.config.seed) ?? []
    : replicateSeeds(h).filter((s) => s !== h.config.seed);
  const runs: { seed: number; overrides: Override[] }[] = seeds.map((
    seed,
  ) => ({ seed, overrides: [] }));
  // Sweep points: at the smoke tier those the hypothesis chose for CI, at
  // the full tier every point with every replicate seed.
  const chosen = h.replicates?.smoke?.points ?? [];
  for (const overrides of sweepPoints(h)) {
    if (tier === "smoke" && !chosen.includes(pointLabel(overrides))) continue;
    const pointSeeds = tier === "smoke"
      ? h.replicates?.smoke?.seeds ?? [h.config.seed]
      : replicateSeeds(h);
    for (const seed of pointSeeds) runs.push({ seed, overrides });
  }
  if (runs.length > 0) {
    Deno.test(`${h.id}: ${tier} replicates and sweep points (${runs.length} runs) reproduce their recorded outcomes`, async () => {
      const outcomes = await readOutcomes(RECORDS_DIR, h.id);
      const missing =
        `run \`deno task sweep ${h.id} --tier ${tier}\`, then \`deno task record ${h.id}\``;
      // Every run must have an outcome to meet before any of them trains.
      for (const { seed, overrides } of runs) {
        const point = pointLabel(overrides);
        assert.ok(
          outcomes.some((o) =>
            o.tier === tier && o.seed === seed && (o.point ?? "") === point
          ),
          `${h.id} seed ${seed}${
            point ? ` [${point}]` : ""
          } (${tier}): no recorded outcome; ${missing}`,
        );
      }
      for (const { seed, overrides } of runs) {
        const point = pointLabel(overrides);
        const what = `${h.id} seed ${seed}${
          point ? ` [${point}]` : ""
        } (${tier})`;
        const run = await runHypothesis(h, {
          tier,
          seed,
          overrides,
          backend,
          ...gateRun(tier),
        });
        const rec = findOutcome(outcomes, tier, run.backend, seed, point);
        assert.ok(
          rec,
          `${what}: no recorded outcome on ${run.backend}; ${missing}`,
        );
        assert.ok(isComplete(run), `${what} diverged`);
        assert.equal(
          `${run.verdict} C=${run.final.C} P=${run.final.P}`,
          `${rec.verdict} C=${rec.C} P=${rec.P}`,
          what,
        );
      }
    });
  }
}
