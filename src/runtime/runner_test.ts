// The runner's read window on the cpu engine: enqueue() keeps each step's
// record in the log, collect() returns them in step order with the same bits
// run() reads one step at a time, and the window's limits are enforced.

import assert from "node:assert/strict";
import { TINY_RUN } from "../testing/helpers.ts";
import { stepConfigOf, type TrainConfig } from "../step/config.ts";
import { HostStreams, initialParameters } from "../step/host_streams.ts";
import { makeBatch } from "../data/sampler.ts";
import { compileStep } from "../step/step.ts";
import { cpuEngine } from "./cpu.ts";
import { type StepFeed, StepRunner } from "./runner.ts";

const TINY: TrainConfig = TINY_RUN;
const corpus = new TextEncoder().encode("the quick brown fox ".repeat(50));
const compiled = compileStep(stepConfigOf(TINY));
const WTE = "transformer.wte.weight";

function feeds(n: number): StepFeed[] {
  const host = new HostStreams(TINY, corpus.length);
  return Array.from({ length: n }, () => {
    const s = host.next();
    return {
      batch: makeBatch(corpus, s.offsets, TINY.seqLen, TINY.objective),
      scalars: s.scalars,
    };
  });
}

Deno.test("StepRunner: collect() returns the window's steps in order, bit-identical to run()", async () => {
  const steps = feeds(5);
  const one = await StepRunner.create(
    cpuEngine,
    compiled,
    initialParameters(TINY),
  );
  const windowed = await StepRunner.create(
    cpuEngine,
    compiled,
    initialParameters(TINY),
    { readEvery: 3, snapshot: { name: WTE, every: 2 } },
  );
  try {
    assert.equal(one.readEvery, 1, "host engines read every step");
    const expected: { loss: number; gradNorm: number; wte: Float32Array }[] =
      [];
    for (const f of steps) {
      const out = await one.run(f);
      expected.push({ ...out, wte: await one.read(WTE) });
    }
    const got = [];
    for (const [i, f] of steps.entries()) {
      await windowed.enqueue(f, { snapshot: (i + 1) % 2 === 0 });
      if (windowed.pending === 3 || i === steps.length - 1) {
        got.push(...await windowed.collect());
      }
    }
    assert.equal(windowed.pending, 0);
    assert.deepEqual(await windowed.collect(), []);
    assert.equal(got.length, 5);
    got.forEach((r, i) => {
      assert.ok(Object.is(r.loss, expected[i].loss), `loss ${i + 1}`);
      assert.ok(Object.is(r.gradNorm, expected[i].gradNorm), `norm ${i + 1}`);
      if ((i + 1) % 2) assert.equal(r.snapshot, null);
      else assert.deepEqual(r.snapshot, expected[i].wte, `snapshot ${i + 1}`);
    });
  } finally {
    await one.release();
    await windowed.release();
  }
});

Deno.test("StepRunner: a full window, too many snapshots, or run() with steps pending is refused", async () => {
  const [a, b, c] = feeds(3);
  const r = await StepRunner.create(
    cpuEngine,
    compiled,
    initialParameters(TINY),
    { readEvery: 2, snapshot: { name: WTE, every: 2 } },
  );
  try {
    await r.enqueue(a, { snapshot: true });
    // One snapshot slot for a window of 2 with snapshots every 2 steps.
    await assert.rejects(() => r.enqueue(b, { snapshot: true }), RangeError);
    await r.enqueue(b);
    await assert.rejects(() => r.enqueue(c), /collect\(\) them first/);
    await assert.rejects(() => r.run(c), /collect\(\) them first/);
    assert.equal((await r.collect()).length, 2);
    assert.ok(Number.isFinite((await r.run(c)).loss));
  } finally {
    await r.release();
  }
  const plain = await StepRunner.create(
    cpuEngine,
    compiled,
    initialParameters(TINY),
  );
  try {
    await assert.rejects(
      () => plain.enqueue(a, { snapshot: true }),
      /without a snapshot/,
    );
  } finally {
    await plain.release();
  }
  await assert.rejects(
    () =>
      StepRunner.create(cpuEngine, compiled, initialParameters(TINY), {
        readEvery: 0,
      }),
    RangeError,
  );
  await assert.rejects(
    () =>
      StepRunner.create(cpuEngine, compiled, initialParameters(TINY), {
        snapshot: { name: "no.such.weight" },
      }),
    /no parameter no.such.weight/,
  );
});
