// Stochastic rounding through the trainer: replicates of one graph are their
// solo runs bit for bit (each replicate draws its own uniforms), a run
// resumed from a checkpoint continues the rounding stream where it stopped,
// and on the control's Qwen init it separates the rows that nearest-even
// rounding keeps identical.

import assert from "node:assert/strict";
import { TINY_RUN } from "../testing/helpers.ts";
import type { TrainConfig } from "./config.ts";
import { compileStep, type StepConfig } from "./step.ts";
import { compileReplicatedStep } from "./replicated_step.ts";
import { stepConfigOf } from "./config.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import {
  train,
  type TrainerCheckpoint,
  trainReplicates,
} from "../runtime/trainer.ts";

const corpus = new TextEncoder().encode(
  "A quick brown fox jumps over the lazy dog; 12 zebras quietly vex. ".repeat(
    80,
  ),
);
const choice = { engine: cpuEngine, reason: "test", adapter: null };
const WTE = "transformer.wte.weight";
const SR: TrainConfig = { ...TINY_RUN, rounding: "stochastic" };

/** Distinct rows of a [V, d] matrix, compared bit for bit. */
function distinctRows(wte: Float32Array, d: number): number {
  const rows = new Set<string>();
  for (let i = 0; i < wte.length; i += d) {
    rows.add(new Uint8Array(wte.slice(i, i + d).buffer).join(","));
  }
  return rows.size;
}

Deno.test("the step graph takes the uniforms as input `rounding` [N] ([R, N] replicated)", () => {
  const cfg: StepConfig = stepConfigOf(SR);
  const solo = compileStep(cfg);
  assert.deepEqual(
    solo.inputs.find((i) => i.name === "rounding")?.shape,
    [solo.totalSize],
  );
  const off = compileStep(stepConfigOf(TINY_RUN));
  assert.equal(off.inputs.find((i) => i.name === "rounding"), undefined);
  const replicated = compileReplicatedStep(cfg, 3);
  assert.deepEqual(
    replicated.inputs.find((i) => i.name === "rounding")?.shape,
    [3, solo.totalSize],
  );
  assert.throws(
    () => compileStep({ ...cfg, precision: "fp32" }),
    /rounding must be "stochastic" with bf16 storage/,
  );
});

Deno.test("replicates with stochastic rounding are their solo runs, bit for bit", async () => {
  const configs = [1, 2].map((seed) => ({ ...SR, seed }));
  const outcomes = await trainReplicates(configs, corpus, {
    choice,
    steps: 4,
  });
  for (const [r, c] of configs.entries()) {
    const outcome = outcomes[r];
    assert.ok(outcome.ok);
    const alone = await train(c, corpus, { choice, steps: 4 });
    assert.deepEqual(outcome.result.losses, alone.losses);
    for (const [name, values] of alone.finalParams) {
      assert.deepEqual(outcome.result.finalParams.get(name), values, name);
    }
  }
  // The two seeds draw other uniforms (and batches).
  assert.ok(outcomes[0].ok && outcomes[1].ok);
  assert.notDeepEqual(
    outcomes[0].result.finalParams.get(WTE),
    outcomes[1].result.finalParams.get(WTE),
  );
});

Deno.test("a run resumed from a checkpoint continues the rounding stream", async () => {
  const saved: TrainerCheckpoint[] = [];
  const straight = await train(SR, corpus, {
    choice,
    steps: 6,
    checkpointEvery: 3,
    onCheckpoint: (c) => {
      saved.push(c);
      return Promise.resolve();
    },
  });
  assert.equal(saved.length, 1);
  assert.ok(saved[0].host.rounding, "the checkpoint holds the stream");
  const resumed = await train(SR, corpus, {
    choice,
    steps: 6,
    resume: saved[0],
  });
  assert.deepEqual(resumed.losses, straight.losses);
  assert.deepEqual(resumed.finalParams.get(WTE), straight.finalParams.get(WTE));
});

Deno.test("on the control's init, stochastic rounding separates the rows nearest-even keeps identical", async () => {
  // Qwen init: every row starts as one shared vector. After two steps the
  // dead rows (never inputs here) are still that one vector under
  // nearest-even, while stochastic rounding draws each element apart.
  const d = TINY_RUN.model.dModel, V = TINY_RUN.model.vocabSize;
  const nearest = await train(TINY_RUN, corpus, { choice, steps: 2 });
  const stochastic = await train(SR, corpus, { choice, steps: 2 });
  const alive = new Set(corpus).size;
  assert.ok(distinctRows(nearest.finalParams.get(WTE)!, d) <= alive + 1);
  assert.equal(distinctRows(stochastic.finalParams.get(WTE)!, d), V);
});
