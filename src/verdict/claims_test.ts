import assert from "node:assert/strict";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";
import { expectationText, outcomeOf } from "./claims.ts";
// How a report writes a rate: checked here against the same outcomes.
import { rateFraction, shortRate } from "../report/markdown/format.ts";
import {
  makeDiverged,
  makeHypothesis,
  makeReplicate,
} from "../testing/records.ts";

/** 8 seeds (42, 1..7): positive (C = 2, P = 4) except the ones in `nulls`. */
function eightSeeds(nulls: readonly number[]): RunRecord[] {
  return [42, 1, 2, 3, 4, 5, 6, 7].map((s) =>
    nulls.includes(s)
      ? makeReplicate(s, { C: 1, P: 4 })
      : makeReplicate(s, { C: 2, P: 4 })
  );
}

Deno.test("7/8 positive: the claim is a rate with its 95% Wilson interval", () => {
  const h = makeHypothesis({ replicates: { count: 8 } });
  const o = outcomeOf(h, eightSeeds([3]));
  assert.equal(o.claimVerdict, "positive");
  assert.equal(o.claim.rate.k, 7);
  assert.equal(o.claim.rate.n, 8);
  // Wilson, z = 1.96: centre (0.875 + 1.9208/8) / (1 + 3.8415/8) = 0.7533,
  // half-width 1.96/1.4802 * sqrt(0.875 * 0.125 / 8 + 3.8415/256) = 0.2242.
  assert.ok(Math.abs(o.claim.rate.low - 0.5291) < 1e-4, `${o.claim.rate.low}`);
  assert.ok(Math.abs(o.claim.rate.high - 0.9776) < 1e-4);
  assert.equal(rateFraction(o.claim.rate), "7/8 (53–98%)");
  assert.equal(shortRate("positive", o.claim.rate), "positive 7/8 (53–98%)");
  // Without a rate expectation the own seed's run decides: seed 42 is positive.
  assert.deepEqual(o.rules, ["primary"]);
  assert.equal(o.primary?.seed, 42);
  assert.equal(o.pass, true);
});

Deno.test("a diverged replicate is invalid: counted apart, never in k or n", () => {
  const h = makeHypothesis({ replicates: { count: 4 } });
  const runs = [
    makeReplicate(42, { C: 2, P: 4 }),
    makeReplicate(1, { C: 3, P: 4 }),
    makeDiverged(2),
    makeReplicate(3, { C: 1, P: 4 }),
  ];
  const o = outcomeOf(h, runs);
  assert.equal(o.claim.runs, 4);
  assert.equal(o.claim.invalid, 1);
  assert.deepEqual([o.claim.rate.k, o.claim.rate.n], [2, 3]);
  // C over the three completed runs 1, 2, 3; diverged has no C.
  assert.deepEqual(o.claim.C, {
    n: 3,
    min: 1,
    q1: 1.5,
    median: 2,
    q3: 2.5,
    max: 3,
  });
  assert.equal(
    shortRate(o.claimVerdict, o.claim.rate, o.claim.invalid),
    "positive 2/3 (21–94%) +1 invalid",
  );
  // A diverged own-seed run fails the primary rule, whatever the others say.
  const o2 = outcomeOf(h, [makeDiverged(42), makeReplicate(1, { C: 2, P: 4 })]);
  assert.equal(o2.observed, "invalid");
  assert.deepEqual([o2.claim.rate.k, o2.claim.rate.n], [1, 1]);
  assert.equal(o2.pass, false);
});

Deno.test("rate expectation: ✓ when the share reaches atLeast, whatever the own seed says", () => {
  const h = makeHypothesis({
    replicates: { count: 8 },
    expectation: {
      verdict: "positive",
      reasoning: "r",
      rate: { verdict: "positive", atLeast: 0.8 },
    },
  });
  assert.equal(
    expectationText(h),
    "positive in at least 80% of seeds",
  );
  // 7/8 = 0.875 >= 0.8, although seed 42 itself is null.
  const pass = outcomeOf(h, eightSeeds([42]));
  assert.deepEqual(pass.rules, ["rate"]);
  assert.equal(pass.observed, "null");
  assert.equal(pass.pass, true);
  assert.equal(
    pass.checks[0].text,
    "positive in 7/8 seeds = 88%, at least the required 80%",
  );
  // 6/8 = 0.75 < 0.8 fails, although seed 42 is positive.
  const fail = outcomeOf(h, eightSeeds([1, 2]));
  assert.equal(fail.observed, "positive");
  assert.equal(fail.pass, false);
  assert.equal(
    fail.checks[0].text,
    "positive in 6/8 seeds = 75%, below the required 80%",
  );
  // Exactly at the threshold passes: 4/5 = 0.8.
  const edge = outcomeOf(h, [
    makeReplicate(42, { C: 2, P: 4 }),
    makeReplicate(1, { C: 2, P: 4 }),
    makeReplicate(2, { C: 2, P: 4 }),
    makeReplicate(3, { C: 2, P: 4 }),
    makeReplicate(4, { C: 1, P: 4 }),
    makeDiverged(5),
  ]);
  assert.deepEqual([edge.claim.rate.k, edge.claim.rate.n], [4, 5]);
  assert.equal(edge.pass, true);
  // No completed run: no rate, no ✓.
  assert.equal(outcomeOf(h, [makeDiverged(42)]).pass, false);
});

/** A hypothesis sweeping noise.scale over 1e-8, 1e-7, 1e-6 with a boundary. */
function boundaryHypothesis(): Hypothesis {
  return makeHypothesis({
    replicates: { count: 4 },
    sweep: [{ path: "noise.scale", values: [1e-8, 1e-7, 1e-6] }],
    expectation: {
      verdict: "positive",
      reasoning: "r",
      boundary: {
        path: "noise.scale",
        nullAtOrBelow: 1e-8,
        positiveAtOrAbove: 1e-6,
      },
    },
  });
}

/** Four seeds at one sweep point, `positive` of them positive. */
function atPoint(label: string, positive: number): RunRecord[] {
  return [42, 1, 2, 3].map((s, i) =>
    makeReplicate(s, i < positive ? { C: 2, P: 4 } : { C: 1, P: 4 }, {
      overrides: [label],
    })
  );
}

Deno.test("boundary expectation: null majority at and below, positive majority at and above", () => {
  const h = boundaryHypothesis();
  assert.equal(
    expectationText(h),
    "null at noise.scale ≤ 1e-8, positive at ≥ 1e-6",
  );
  const runs = [
    ...atPoint("noise.scale=1e-8", 1), // 3 of 4 null
    ...atPoint("noise.scale=1e-7", 2), // between: not judged
    ...atPoint("noise.scale=0.000001", 3), // 3 of 4 positive
  ];
  const o = outcomeOf(h, runs);
  assert.deepEqual(o.rules, ["boundary"]);
  assert.deepEqual(o.points.map((p) => [p.label, p.majority]), [
    ["noise.scale=1e-8", "null"],
    ["noise.scale=1e-7", "tie"],
    ["noise.scale=0.000001", "positive"],
  ]);
  assert.deepEqual(o.checks, [
    {
      text:
        "noise.scale = 1e-8 (≤ 1e-8): null in 3/4 seeds; null majority holds",
      ok: true,
    },
    {
      text:
        "noise.scale = 1e-6 (≥ 1e-6): positive in 3/4 seeds; positive majority holds",
      ok: true,
    },
  ]);
  assert.equal(o.pass, true);

  // 2 of 4 positive at 1e-6 is a tie, not a majority: ✗.
  const tie = outcomeOf(h, [
    ...atPoint("noise.scale=1e-8", 0),
    ...atPoint("noise.scale=1e-7", 4),
    ...atPoint("noise.scale=0.000001", 2),
  ]);
  assert.equal(tie.pass, false);
  assert.deepEqual(tie.checks.map((c) => c.ok), [true, false]);
  // A point on one side without completed runs fails too.
  const missing = outcomeOf(h, atPoint("noise.scale=1e-8", 0));
  assert.equal(missing.pass, false);
  assert.equal(
    missing.checks[1].text,
    "noise.scale = 1e-6 (≥ 1e-6): no completed runs; positive majority does not hold",
  );
});
