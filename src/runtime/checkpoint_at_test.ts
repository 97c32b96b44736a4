// Checkpoints: due every `every` steps but never after the last step (the
// run's result is the state then), and what they hold is the runner's state
// of the replicate asked for plus copies of the records up to the step.

import assert from "node:assert/strict";
import { TINY_RUN } from "../testing/helpers.ts";
import { HostStreams } from "../step/host_streams.ts";
import { checkpointAt, readCheckpoint } from "./checkpoint_at.ts";
import type { StepRunner } from "./runner.ts";

Deno.test("checkpointAt: every k steps, not at the last step, never for 0", () => {
  const due = (every: number, steps: number) =>
    Array.from({ length: steps + 1 }, (_, step) => step).filter((step) =>
      step > 0 && checkpointAt(step, { every, steps })
    );
  assert.deepEqual(due(3, 10), [3, 6, 9]);
  assert.deepEqual(due(5, 10), [5]);
  assert.deepEqual(due(1, 3), [1, 2]);
  assert.deepEqual(due(0, 10), []);
});

Deno.test("readCheckpoint: the replicate's state, host streams and copies of its records", async () => {
  const reads: string[] = [];
  const runner = {
    readState(vector: string, replicate: number) {
      reads.push(`${vector}${replicate}`);
      return Promise.resolve(new Float32Array([vector.length, replicate]));
    },
  } as unknown as StepRunner;
  const host = new HostStreams(TINY_RUN, 1000);
  host.next();
  host.next();
  const losses = new Float32Array([1, 2, 3, 0]);
  const gradNorms = new Float32Array([4, 5, 6, 0]);
  const ck = await readCheckpoint(runner, {
    replicate: 2,
    step: 3,
    host,
    losses,
    gradNorms,
  });
  assert.deepEqual(reads, ["params2", "m2", "v2"]);
  assert.equal(ck.step, 3);
  assert.deepEqual(ck.state.params, new Float32Array([6, 2]));
  assert.deepEqual(ck.host, host.snapshot());
  assert.equal(ck.host.step, 2);
  assert.deepEqual(ck.losses, new Float32Array([1, 2, 3]));
  assert.deepEqual(ck.gradNorms, new Float32Array([4, 5, 6]));
  // The run goes on writing its records; the checkpoint keeps its own.
  losses[0] = 9;
  assert.equal(ck.losses[0], 1);
});
