// The index's plot of rates: which hypotheses it shows, with what share and
// interval, and that it is a well-formed SVG the report writer owns.

import assert from "node:assert/strict";
import { makeHypothesis, makeReplicate } from "../testing/records.ts";
import { checkWellFormed } from "./svg/svg_reading.ts";
import { ratePoints, ratesPlot } from "./rates_plot.ts";

const SEEDS = [42, 1, 2, 3, 4, 5, 6, 7];

// 11.2b-like: predicted positive in at least 80%; seed 3 null, 7 of 8 positive.
const predicted = {
  hypothesis: makeHypothesis({
    replicates: { count: 8 },
    expectation: {
      verdict: "positive",
      reasoning: "r",
      rate: { verdict: "positive", atLeast: 0.8 },
    },
  }),
  runs: SEEDS.map((s) =>
    makeReplicate(s, s === 3 ? { C: 1, P: 4 } : { C: 2, P: 4 })
  ),
  file: "11.2b-jiggling.md",
};
// A control predicting null without a rate, every seed null.
const control = {
  hypothesis: makeHypothesis({
    id: "control-layernorm",
    replicates: { count: 8 },
    expectation: { verdict: "null", reasoning: "r" },
  }),
  runs: SEEDS.map((s) => makeReplicate(s, { C: 1, P: 4 })),
  file: "control-layernorm.md",
};
const notRun = {
  hypothesis: makeHypothesis({ id: "11.9z-not-run" }),
  runs: [],
  file: "11.9z-not-run.md",
};

Deno.test("ratePoints(): the predicted verdict's share with its Wilson interval, per hypothesis with runs", () => {
  const points = ratePoints([control, predicted, notRun]);
  assert.deepEqual(points.map((p) => p.label), ["control", "11.2b"]);
  const [c, b] = points;
  // Wilson 95% by hand, z^2 = 3.8416. 8/8: low = n / (n + z^2) = 8 / 11.8416.
  assert.deepEqual([c.verdict, c.k, c.n, c.predicted], ["null", 8, 8, null]);
  assert.equal(c.low.toFixed(3), "0.676");
  assert.equal(c.high, 1);
  // 7/8: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
  // = (1.11510 -+ 1.96 * 0.16935) / 1.48020.
  assert.deepEqual([b.verdict, b.k, b.n, b.predicted], ["positive", 7, 8, 0.8]);
  assert.equal(b.share, 0.875);
  assert.deepEqual([b.low.toFixed(3), b.high.toFixed(3)], ["0.529", "0.978"]);
});

Deno.test("ratesPlot(): a well-formed SVG titled for the index, one tick per hypothesis; none without runs", () => {
  const svg = ratesPlot([control, predicted, notRun])!;
  assert.deepEqual(checkWellFormed(svg), ["svg"]);
  assert.match(svg.split("\n")[1], /^<title>Reports: /);
  for (const label of [">control<", ">11.2b<"]) {
    assert.ok(svg.includes(label), label);
  }
  assert.ok(!svg.includes(">11.9z<"));
  assert.equal(ratesPlot([notRun]), undefined);
});
