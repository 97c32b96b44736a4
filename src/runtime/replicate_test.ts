// One replicate in the loop, with a stand-in runner: the hooks split off
// options by name, the records a replicate keeps (resumed ones included),
// and a divergence — in the loss, an embedding snapshot or a final
// parameter — ending it with the record up to the bad step and silencing
// its hooks from then on.

import assert from "node:assert/strict";
import { TINY_RUN } from "../testing/helpers.ts";
import type { TrainConfig } from "../step/config.ts";
import type { TrainerCheckpoint } from "./checkpoint_at.ts";
import { DivergedError } from "./divergence.ts";
import {
  EMBEDDING,
  Replicate,
  type ReplicateHooks,
  splitHooks,
} from "./replicate.ts";
import type { StepRunner } from "./runner.ts";

const NOISY: TrainConfig = {
  ...TINY_RUN,
  maxSteps: 20,
  noise: { param: EMBEDDING, scale: 1e-3 },
};
const corpus = new TextEncoder().encode("hello, replicate ".repeat(20));

/** A runner whose state is a few zeros, `bad` in parameter `a` if given. */
function fakeRunner(bad?: number) {
  return {
    readState: () => Promise.resolve(new Float32Array(3)),
    parameters: () =>
      Promise.resolve(
        new Map([
          ["b", new Float32Array(2)],
          ["a", new Float32Array([0, bad ?? 0])],
        ]),
      ),
  } as unknown as StepRunner;
}

/** A replicate whose hooks log what they receive. */
function logged(config = NOISY, resume?: TrainerCheckpoint) {
  const events: string[] = [];
  const hooks: ReplicateHooks = {
    onStep: (i) => void events.push(`step ${i.step} ${i.loss} ${i.lr}`),
    onEmbedding: (step, wte) => void events.push(`emb ${step} ${wte[0]}`),
    onNoise: (t) => void events.push(`noise ${t}`),
    onCheckpoint: (c) => {
      events.push(`ck ${c.step} ${Array.from(c.losses)}`);
      return Promise.resolve();
    },
    recordOffsets: true,
    resume,
  };
  const rep = new Replicate({
    index: 0,
    config,
    hooks,
    corpusLength: corpus.length,
    steps: 10,
  });
  return { rep, events };
}

const record = (loss: number, snapshot: Float32Array | null = null) => ({
  loss,
  gradNorm: 0.5,
  snapshot,
});
const at = (step: number) => ({ step, steps: 10, lr: 1e-3, elapsedMs: 0 });

Deno.test("splitHooks: every hook goes to the replicate, the rest is shared", () => {
  const hooks: Required<ReplicateHooks> = {
    onStep: () => {},
    onEmbedding: () => {},
    onNoise: () => {},
    recordOffsets: true,
    resume: {} as TrainerCheckpoint,
    onCheckpoint: () => Promise.resolve(),
  };
  const split = splitHooks({ ...hooks, steps: 3, readEvery: 2 });
  assert.deepEqual(split.hooks, hooks);
  assert.deepEqual(split.rest, { steps: 3, readEvery: 2 });
});

Deno.test("Replicate: feeds draw the host streams, record offsets and report noise", async () => {
  const { rep, events } = logged();
  const first = await rep.feed(0, corpus);
  const noise = first.feed.noise!.slice();
  const second = await rep.feed(1, corpus);
  assert.deepEqual(events, ["noise 0", "noise 1"]);
  assert.equal(first.lr, first.feed.scalars.lr);
  assert.notDeepEqual(second.feed.noise, noise);
  const B = NOISY.batchSize;
  assert.notDeepEqual(rep.offsets!.subarray(B, 2 * B), new Int32Array(B));
  assert.deepEqual(rep.offsets!.subarray(2 * B), new Int32Array(8 * B));
});

Deno.test("Replicate: observes steps in order, then checkpoints them", async () => {
  const { rep, events } = logged();
  await rep.observe(record(4), at(1));
  await rep.observe(record(3, new Float32Array([7])), at(2));
  await rep.checkpoint(fakeRunner(), 2);
  assert.deepEqual(events, [
    "step 1 4 0.001",
    "emb 2 7",
    "step 2 3 0.001",
    "ck 2 4,3",
  ]);
  assert.deepEqual(rep.losses.subarray(0, 3), new Float32Array([4, 3, 0]));
  assert.deepEqual(rep.gradNorms.subarray(0, 2), new Float32Array([0.5, 0.5]));
  assert.equal(rep.error, null);
  assert.ok(await rep.finalParameters(fakeRunner(), 2));
});

Deno.test("Replicate: a resumed replicate starts with the resumed records", () => {
  const { rep } = logged(NOISY, {
    step: 2,
    state: {
      params: new Float32Array(),
      m: new Float32Array(),
      v: new Float32Array(),
    },
    host: logged().rep.host.snapshot(),
    losses: new Float32Array([5, 4, 99]),
    gradNorms: new Float32Array([1, 2, 99]),
  });
  assert.deepEqual(rep.losses.subarray(0, 3), new Float32Array([5, 4, 0]));
  assert.deepEqual(rep.gradNorms.subarray(0, 3), new Float32Array([1, 2, 0]));
});

Deno.test("Replicate: a bad loss ends it at that step; its hooks fall silent", async () => {
  const { rep, events } = logged();
  await rep.observe(record(4), at(1));
  await rep.observe(record(NaN), at(2));
  await rep.observe(record(3), at(3));
  await rep.checkpoint(fakeRunner(), 3);
  await rep.feed(3, corpus);
  assert.deepEqual(events, ["step 1 4 0.001"]);
  assert.ok(rep.error instanceof DivergedError);
  assert.deepEqual(rep.error.divergence, {
    step: 2,
    quantity: "loss",
    value: NaN,
  });
  assert.deepEqual(rep.error.losses, new Float32Array([4, NaN]));
  assert.equal(await rep.finalParameters(fakeRunner(), 3), null);
});

Deno.test("Replicate: a non-finite snapshot ends it before that step's onStep", async () => {
  const { rep, events } = logged();
  await rep.observe(record(4, new Float32Array([1, Infinity])), at(1));
  assert.deepEqual(events, []);
  assert.deepEqual(rep.error?.divergence, {
    step: 1,
    quantity: `parameter ${EMBEDDING}`,
    value: Infinity,
  });
});

Deno.test("Replicate: a non-finite final parameter ends it at the last step", async () => {
  const { rep } = logged();
  await rep.observe(record(4), at(1));
  assert.equal(await rep.finalParameters(fakeRunner(NaN), 1), null);
  assert.deepEqual(rep.error?.divergence, {
    step: 1,
    quantity: "parameter a",
    value: NaN,
  });
});
