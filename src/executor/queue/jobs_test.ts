import assert from "node:assert/strict";
import { jobEnd } from "./jobs.ts";
import { fakeRecord, fakeSpec } from "../../testing/fake_runs.ts";
import type { RunRecord } from "../../hypothesis/types.ts";

Deno.test("jobEnd: a job's return value as its run's end", () => {
  const spec = { ...fakeSpec("ok"), replicas: 4 };
  const record = fakeRecord(spec);
  const finished = (replicas: number) => ({
    type: "finished",
    spec,
    record,
    replicas,
  });
  // The pack size the worker trained, not the spec's; 0 when reused.
  assert.deepEqual(jobEnd(spec, { record, replicas: 3 }, false), finished(3));
  assert.deepEqual(jobEnd(spec, { record, replicas: 3 }, true), finished(0));
  // A bare record (an older worker): the pack the spec names.
  assert.deepEqual(jobEnd(spec, record, false), finished(4));
  assert.deepEqual(jobEnd(spec, { record, replicas: -1 }, false), finished(4));
  assert.throws(
    () => jobEnd(fakeSpec("ok"), { record, replicas: 1 }, false),
    /the queue's record of [0-9a-f]{12} has run key/,
  );
  assert.throws(() => jobEnd(spec, { record: { key: 1 } }, false));
  assert.throws(() => jobEnd(spec, null, false));
});

Deno.test("jobEnd: a diverged record is the run's divergence, with it", () => {
  const spec = fakeSpec("diverge");
  const ok = fakeRecord(spec);
  const t = ok.trajectory;
  const keep = t.step.filter((s) => s <= 2).length;
  const trajectory = {
    ...t,
    step: t.step.slice(0, keep),
    C: t.C.slice(0, keep),
    P: t.P.slice(0, keep),
    centroidNorm: t.centroidNorm.slice(0, keep),
  };
  const record: RunRecord = {
    ...ok,
    status: "diverged",
    divergence: { step: 2, quantity: "loss", value: 1e9 },
    loss: ok.loss.slice(0, 2),
    gradNorm: ok.gradNorm.slice(0, 2),
    trajectory,
    final: null,
    verdict: "invalid",
  };
  assert.deepEqual(jobEnd(spec, { record }, false), {
    type: "diverged",
    spec,
    message: "diverged at step 2 (recorded as invalid)",
    record,
  });
  assert.deepEqual(jobEnd(spec, record, true), {
    type: "diverged",
    spec,
    message: "diverged at step 2 (recorded as invalid)",
    record,
  });
});
