/**
 * The regression gate behind `deno test experiments/`: runs a hypothesis at
 * the selected tier and asserts its observed outcome against what was
 * recorded from earlier runs (verdict, C, P, populations) and its loss curve
 * against the committed full run's first steps.
 *
 * Tier and backend come from the environment: `HORIZON_TIER=smoke|full`
 * (default smoke) and `HORIZON_BACKEND=auto|cpu|wasm|webgpu` (default cpu,
 * the backend the smoke values were recorded on).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BackendName } from "../runtime/engine.ts";
import { readRecord, recordPath, RECORDS_DIR, runHypothesis } from "./run.ts";
import type { Hypothesis, RunRecord, Tier } from "./types.ts";
import { verdictOf } from "./verdict.ts";

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

/** Asserts one run against the hypothesis's recorded outcome and baseline. */
export async function assertRecorded(
  h: Hypothesis,
  run: RunRecord,
  tier: Tier,
): Promise<void> {
  const dead = run.corpus.deadTokens.length;
  assert.equal(run.verdict, verdictOf(run.final, dead));
  const rec = h.recorded?.[tier];
  if (!rec) {
    throw new Error(
      `${h.id}: no recorded ${tier} outcome; run \`deno task run ${h.id} --tier ${tier}\` and record it in hypotheses/${h.id}.ts`,
    );
  }
  assert.equal(
    run.verdict,
    rec.verdict,
    `${h.id} (${tier}): verdict changed from the recorded ${rec.verdict} to ${run.verdict} (C=${run.final.C}, P=${run.final.P})`,
  );
  if (run.backend === rec.backend && run.steps === rec.steps) {
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
  // else the committed smoke run.
  const baseline =
    await readRecord(recordPath(RECORDS_DIR, h.id, "full", run.seed)) ??
      await readRecord(recordPath(RECORDS_DIR, h.id, "smoke", run.seed));
  if (baseline && baseline.backend === run.backend) {
    let worst = 0, at = -1;
    const n = Math.min(run.steps, baseline.steps);
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

/** Registers the Deno tests of one hypothesis. */
export function testHypothesis(h: Hypothesis): void {
  const tier = selectedTier();
  const backend = selectedBackend();
  Deno.test(`${h.id}: ${tier} run reproduces the recorded outcome`, async () => {
    const run = await runHypothesis(h, {
      tier,
      backend,
      useCache: false,
      saveRecord: false,
      writeHistory: false,
    });
    await assertRecorded(h, run, tier);
  });
  const reps = h.replicates;
  if (reps && tier === "smoke") {
    Deno.test(`${h.id}: verdict holds in >= ${reps.minAgreeing}/${reps.seeds.length} seeds`, async () => {
      const verdicts: string[] = [];
      for (const seed of reps.seeds) {
        const run = await runHypothesis(h, {
          tier,
          seed,
          backend,
          useCache: false,
          saveRecord: false,
          writeHistory: false,
        });
        verdicts.push(run.verdict);
      }
      const expected = h.recorded?.smoke?.verdict ?? h.expectation.verdict;
      const agreeing = verdicts.filter((v) => v === expected).length;
      assert.ok(
        agreeing >= reps.minAgreeing,
        `${h.id}: ${expected} in ${agreeing}/${reps.seeds.length} seeds (${
          verdicts.join(", ")
        }), need ${reps.minAgreeing}`,
      );
    });
  }
}
