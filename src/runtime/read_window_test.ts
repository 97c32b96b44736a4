// The read window with a stand-in runner: which steps ask for a snapshot,
// where windows end (full log, checkpoint step, last step, abort), and what a
// read hands back (the window's first step, records, learning rates, and
// whether a checkpoint is due).

import assert from "node:assert/strict";
import { ReadWindow, type ReadWindowOptions } from "./read_window.ts";
import type { StepRecord, StepRunner } from "./runner.ts";

/** A runner that logs `loss = step` and remembers which steps snapshot. */
function fakeRunner(readEvery: number, done = 0) {
  let step = done;
  let pending: StepRecord[] = [];
  const snapshots: number[] = [];
  const runner = {
    readEvery,
    get pending() {
      return pending.length;
    },
    enqueue(_feeds: unknown, options: { snapshot?: boolean }) {
      step++;
      if (options.snapshot) snapshots.push(step);
      pending.push({
        loss: step,
        gradNorm: -step,
        snapshot: options.snapshot ? new Float32Array([step]) : null,
      });
      return Promise.resolve();
    },
    collectReplicates() {
      const records = [pending];
      pending = [];
      return Promise.resolve(records);
    },
  };
  return { runner: runner as unknown as StepRunner, snapshots };
}

/** Runs `steps` steps; returns the windows read, as [first, last, ck]. */
async function windows(
  readEvery: number,
  options: Partial<Omit<ReadWindowOptions, "signal">> & {
    abortAt?: number;
  } = {},
) {
  const done = options.done ?? 0;
  const { runner, snapshots } = fakeRunner(readEvery, done);
  const steps = options.steps ?? 10;
  const controller = new AbortController();
  const window = new ReadWindow(runner, {
    done,
    steps,
    checkpointEvery: 0,
    signal: controller.signal,
    startMs: performance.now(),
    ...options,
  });
  const reads: [number, number, boolean][] = [];
  const lrs: number[] = [];
  const read = async () => {
    const w = await window.read();
    assert.deepEqual(w.records[0].map((r) => r.loss), w.lrs);
    lrs.push(...w.lrs);
    const n = w.records[0].length;
    if (n) reads.push([w.first, w.first + n - 1, w.checkpoint]);
    assert.equal(window.done, w.first + n - 1);
  };
  for (let t = done; t < steps; t++) {
    if (controller.signal.aborted) break;
    await window.enqueue([], t + 1);
    if (t + 1 === options.abortAt) controller.abort();
    if (window.due()) await read();
  }
  await read();
  return { reads, snapshots, lrs, done: window.done };
}

Deno.test("ReadWindow: windows end when the log is full and at the last step", async () => {
  const { reads, lrs, done } = await windows(4);
  assert.deepEqual(reads, [[1, 4, false], [5, 8, false], [9, 10, false]]);
  assert.deepEqual(lrs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(done, 10);
});

Deno.test("ReadWindow: windows end at checkpoint steps, which are due but for the last", async () => {
  const { reads } = await windows(4, { checkpointEvery: 3, steps: 9 });
  assert.deepEqual(reads, [
    [1, 3, true],
    [4, 6, true],
    [7, 9, false],
  ]);
});

Deno.test("ReadWindow: a resumed window counts from the resume step", async () => {
  const { reads, snapshots } = await windows(4, {
    done: 6,
    steps: 12,
    checkpointEvery: 4,
    snapshotEvery: 5,
  });
  assert.deepEqual(reads, [[7, 8, true], [9, 12, false]]);
  assert.deepEqual(snapshots, [10]);
});

Deno.test("ReadWindow: snapshots every k steps, none for 0", async () => {
  assert.deepEqual((await windows(4, { snapshotEvery: 3 })).snapshots, [
    3,
    6,
    9,
  ]);
  assert.deepEqual((await windows(4, { snapshotEvery: 0 })).snapshots, []);
});

Deno.test("ReadWindow: an abort ends the window at once", async () => {
  const { reads, done } = await windows(4, { abortAt: 6 });
  assert.deepEqual(reads, [[1, 4, false], [5, 6, false]]);
  assert.equal(done, 6);
});
