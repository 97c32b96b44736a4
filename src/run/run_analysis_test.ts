import assert from "node:assert/strict";
import { deadGroups, RunAnalysis } from "./run_analysis.ts";

Deno.test("deadGroups counts the vectors the dead tokens occupy", () => {
  const dead = new Set([1, 2, 3, 4]);
  // One hole holding all dead tokens (and a live one): one group.
  assert.equal(deadGroups([{ tokens: [0, 1, 2, 3, 4] }], dead), 1);
  // Split into two holes: two groups.
  assert.equal(deadGroups([{ tokens: [1, 2] }, { tokens: [3, 4] }], dead), 2);
  // Token 4 escaped to a vector of its own: two groups.
  assert.equal(deadGroups([{ tokens: [1, 2, 3] }], dead), 2);
  // Fully dispersed.
  assert.equal(deadGroups([], dead), 4);
});

// Four tokens, one column; 1, 2 and 3 are dead and start in one hole.
const EMBEDDINGS = [
  [5, 0, 0, 0],
  [5, 0, 0, 0], // nothing happens
  [0, 0, 1, 1], // a split: {0, 1} and {2, 3}; live token 0 joins, P = 4
  [0, 0, 1, 2], // an escape: token 3 leaves, P = 2
].map((e) => new Float32Array(e));
const toBytes = (wte: Float32Array) => new Uint8Array(wte.slice().buffer);

Deno.test("a split is the dead tokens in more than one vector; an escape is P below their count", () => {
  const a = new RunAnalysis(4, 1, [1, 2, 3]);
  EMBEDDINGS.forEach((e, step) => a.observe(step, e));
  const t = a.trajectory();
  assert.deepEqual(t.step, [0, 1, 2, 3]);
  assert.deepEqual(t.C, [1, 1, 2, 1]);
  assert.deepEqual(t.P, [3, 3, 4, 2]);
  assert.equal(t.firstSplit, 2);
  assert.equal(t.firstEscape, 3);
});

Deno.test("an analysis resumed from its state ends as an uninterrupted one", async () => {
  const whole = new RunAnalysis(4, 1, [1, 2, 3]);
  EMBEDDINGS.forEach((e, step) => whole.observe(step, e));
  const first = new RunAnalysis(4, 1, [1, 2, 3]);
  EMBEDDINGS.slice(0, 2).forEach((e, step) => first.observe(step, e));
  // A checkpoint copies the state; later observations must not reach it.
  const state = structuredClone(first.state());
  const resumed = new RunAnalysis(4, 1, [1, 2, 3], state);
  EMBEDDINGS.slice(2).forEach((e, i) => resumed.observe(i + 2, e));
  assert.deepEqual(resumed.trajectory(), whole.trajectory());
  assert.deepEqual(await resumed.result(toBytes), await whole.result(toBytes));
});

Deno.test("no embedding observed: no state to checkpoint and no result", async () => {
  const a = new RunAnalysis(4, 1, [1, 2, 3]);
  assert.throws(() => a.state(), /no embedding/);
  await assert.rejects(a.result(toBytes), /no embedding was recorded/);
});
