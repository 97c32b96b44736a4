import assert from "node:assert/strict";
import { outcomeOf } from "./claims.ts";
import { pointsOf } from "./points.ts";
import { makeHypothesis, makeReplicate } from "../testing/records.ts";

Deno.test("pointsOf() keeps sweep order and files an unmodified run at the point equal to the config", () => {
  // JIGGLE_CONFIG has noise.scale 3e-6: the second point is the own config.
  const h = makeHypothesis({
    sweep: [{ path: "noise.scale", values: [1e-7, 3e-6] }],
  });
  const own = makeReplicate(42, { C: 2, P: 4 });
  const points = pointsOf(h, [
    own,
    makeReplicate(1, { C: 1, P: 4 }, { overrides: ["noise.scale=1e-7"] }),
  ]);
  assert.deepEqual(
    points.map((p) => [p.label, p.primary, p.runs.map((r) => r.seed)]),
    [["noise.scale=1e-7", false, [1]], ["noise.scale=0.000003", true, [42]]],
  );
  assert.equal(outcomeOf(h, [own]).primary, own);
});
