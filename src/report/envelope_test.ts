import assert from "node:assert/strict";
import { envelopeOf } from "./envelope.ts";
import { envelopeRuns, makeRun } from "../testing/records.ts";

Deno.test("envelopeOf() gives min, median and max per recorded step", () => {
  const e = envelopeOf(envelopeRuns(), (r) => r.trajectory.C);
  assert.deepEqual(e.step, [0, 5, 10, 15, 20]);
  // step 10: {2, 1, 4} -> min 1, median 2, max 4
  assert.deepEqual(
    [e.min[2], e.median[2], e.max[2]],
    [1, 2, 4],
  );
  assert.deepEqual(e.min, [1, 1, 1, 1, 1]);
  assert.deepEqual(e.median, [1, 1, 2, 2, 2]);
  assert.deepEqual(e.max, [1, 3, 4, 5, 5]);
  assert.deepEqual(e.n, [3, 3, 3, 3, 3]);
  // A run that recorded fewer steps counts where it has values.
  const short = makeRun({
    seed: 9,
    trajectory: {
      ...makeRun().trajectory,
      step: [0, 5],
      C: [7, 7],
      P: [4, 4],
      centroidNorm: [1, 1],
    },
  });
  const e2 = envelopeOf([...envelopeRuns(), short], (r) => r.trajectory.C);
  assert.deepEqual(e2.n, [4, 4, 3, 3, 3]);
  // step 5: {1, 3, 1, 7} -> median (1 + 3) / 2 = 2
  assert.equal(e2.median[1], 2);
  assert.equal(e2.max[1], 7);
});
