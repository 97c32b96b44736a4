import assert from "node:assert/strict";
import { declaredSeeds, splitDeclared } from "./declared.ts";
import { renderHypothesisReport } from "../report/markdown/hypothesis_report.ts";
import { makeHypothesis, makeReplicate } from "../testing/records.ts";

const PLOTS = { loss: "l.svg", cp: "cp.svg", centroid: "c.svg" };

Deno.test("declaredSeeds(): the replicate seeds and the smoke tier's, own seed included", () => {
  const h = makeHypothesis({
    replicates: { count: 3, smoke: { seeds: [42, 9], why: "" } },
  });
  assert.deepEqual([...declaredSeeds(h)].sort((a, b) => a - b), [1, 2, 9, 42]);
  assert.deepEqual([...declaredSeeds(makeHypothesis())], [42]);
});

Deno.test("a report's rate counts only declared seeds; ad-hoc runs are named apart", () => {
  // `report <id> --tier smoke` said "null in 20/20 seeds" where 8 are
  // declared, after 12 runs of `run --seed N`.
  const h = makeHypothesis({ replicates: { count: 8 } });
  const declaredRuns = [42, 1, 2, 3, 4, 5, 6, 7].map((s) =>
    makeReplicate(s, { C: 2, P: 4 })
  );
  const adHocRuns = Array.from(
    { length: 12 },
    (_, i) => makeReplicate(4294967296 + i, { C: 2, P: 4 }),
  );
  const { declared, adHoc } = splitDeclared(h, [
    ...declaredRuns,
    ...adHocRuns,
  ]);
  assert.deepEqual(declared, declaredRuns);
  assert.deepEqual(adHoc, adHocRuns);
  const md = renderHypothesisReport(h, declared, { plots: PLOTS, adHoc });
  assert.match(md, /positive in 8\/8 seeds/);
  assert.doesNotMatch(md, /\/20 seeds/);
  assert.match(
    md,
    /\nAnd 12 ad-hoc runs not counted \(seeds 4294967296, 4294967297, .*4294967307, which the hypothesis does not declare; `deno task run --seed N`\)\.\n/,
  );
  // Without ad-hoc runs the report is what it always was.
  assert.equal(
    renderHypothesisReport(h, declared, { plots: PLOTS, adHoc: [] }),
    renderHypothesisReport(h, declared, { plots: PLOTS }),
  );
});
