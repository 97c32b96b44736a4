// Read windows: the trainer reads losses, gradient norms and embedding
// snapshots once every `readEvery` steps (50 on WebGPU), yet what it reports
// must be exactly what a read after every step gives: the same bits of every
// loss, gradient norm and snapshot, the same onStep sequence, the same
// checkpoints, the same final parameters, and a diverged run stopped at the
// same first bad step with the same record. Checked on cpu always and on
// WebGPU when an adapter exists (lavapipe here), where the per-step reads are
// also checked against onnxruntime's own download of the loss.

import assert from "node:assert/strict";
import { TINY_RUN, webgpuForTests } from "../testing/helpers.ts";
import { stepConfigOf, type TrainConfig } from "../step/config.ts";
import { HostStreams, initialParameters } from "../step/host_streams.ts";
import { makeBatch } from "../data/sampler.ts";
import { compileStep } from "../step/step.ts";
import { loadEngine } from "./backend.ts";
import { DivergedError } from "./divergence.ts";
import type { BackendName, OrtTensor } from "./engine.ts";
import {
  train,
  type TrainerCheckpoint,
  type TrainOptions,
  type TrainResult,
} from "./trainer.ts";

const TINY: TrainConfig = TINY_RUN;
/** Diverges at step 3 (loss 160) on every backend. */
const EXPLODING: TrainConfig = {
  ...TINY,
  maxSteps: 100,
  adamw: { ...TINY.adamw, lr: 1 },
};
const corpus = new TextEncoder().encode(
  "the quick brown fox jumps over the lazy dog ".repeat(40),
);
const STEPS = 12;
const hasGpu = await webgpuForTests();
const backends: BackendName[] = hasGpu ? ["cpu", "webgpu"] : ["cpu"];

/** The bits of a float32 array, for exact comparison (NaN included). */
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.slice().buffer));

/** Everything a run reports, in the order it is reported. */
interface Observed {
  readonly events: string[];
  readonly embeddings: [number, number[]][];
  readonly checkpoints: TrainerCheckpoint[];
  readonly result: TrainResult | null;
  readonly error: DivergedError | null;
}

async function observe(
  backend: BackendName,
  config: TrainConfig,
  options: TrainOptions,
): Promise<Observed> {
  const events: string[] = [];
  const embeddings: [number, number[]][] = [];
  const checkpoints: TrainerCheckpoint[] = [];
  let result: TrainResult | null = null, error: DivergedError | null = null;
  try {
    result = await train(config, corpus, {
      backend,
      steps: STEPS,
      embeddingEvery: 2,
      onEmbedding: (step, wte) => {
        events.push(`embedding ${step}`);
        embeddings.push([step, bits(wte)]);
      },
      onStep: ({ step, steps, loss, gradNorm, lr }) => {
        events.push(`step ${step}/${steps} ${loss} ${gradNorm} ${lr}`);
      },
      checkpointEvery: 5,
      onCheckpoint: (c) => {
        events.push(`checkpoint ${c.step}`);
        checkpoints.push(c);
        return Promise.resolve();
      },
      ...options,
    });
  } catch (e) {
    if (!(e instanceof DivergedError)) throw e;
    error = e;
  }
  return { events, embeddings, checkpoints, result, error };
}

function assertSameRun(a: Observed, b: Observed, what: string): void {
  assert.deepEqual(b.events, a.events, `${what}: events`);
  assert.deepEqual(b.embeddings, a.embeddings, `${what}: embeddings`);
  assert.equal(b.checkpoints.length, a.checkpoints.length);
  a.checkpoints.forEach((ca, i) => {
    const cb = b.checkpoints[i];
    assert.equal(cb.step, ca.step);
    assert.deepEqual(cb.host, ca.host, `${what}: host streams at ${ca.step}`);
    for (const k of ["params", "m", "v"] as const) {
      assert.deepEqual(bits(cb.state[k]), bits(ca.state[k]), `${what}: ${k}`);
    }
    assert.deepEqual(bits(cb.losses), bits(ca.losses));
    assert.deepEqual(bits(cb.gradNorms), bits(ca.gradNorms));
  });
  assert.equal(!!b.result, !!a.result, `${what}: both finish or neither`);
  if (a.result && b.result) {
    assert.equal(b.result.stepsRun, a.result.stepsRun);
    assert.deepEqual(bits(b.result.losses), bits(a.result.losses));
    assert.deepEqual(bits(b.result.gradNorms), bits(a.result.gradNorms));
    for (const [name, values] of a.result.finalParams) {
      assert.deepEqual(
        bits(b.result.finalParams.get(name)!),
        bits(values),
        `${what}: final ${name}`,
      );
    }
  }
  assert.equal(!!b.error, !!a.error, `${what}: both diverge or neither`);
  if (a.error && b.error) {
    assert.equal(b.error.message, a.error.message);
    assert.deepEqual(b.error.divergence, a.error.divergence);
    assert.deepEqual(bits(b.error.losses), bits(a.error.losses));
    assert.deepEqual(bits(b.error.gradNorms), bits(a.error.gradNorms));
  }
}

for (const backend of backends) {
  Deno.test(`${backend}: reading every 4 steps reports the same run as reading every step`, async () => {
    const perStep = await observe(backend, TINY, { readEvery: 1 });
    const windowed = await observe(backend, TINY, { readEvery: 4 });
    // Windows of 4 that also end at the checkpoints (5, 10) and the last
    // step: 1-4, 5, 6-9, 10, 11-12.
    assert.equal(perStep.result!.stepsRun, STEPS);
    assert.equal(perStep.embeddings.length, STEPS / 2 + 1);
    assert.deepEqual(perStep.checkpoints.map((c) => c.step), [5, 10]);
    assertSameRun(perStep, windowed, `${backend} every 4 vs every step`);

    // Resumed from the first checkpoint, in windows of 4 again (6-9, 10,
    // 11-12): the same steps after it.
    const resumed = await observe(backend, TINY, {
      readEvery: 4,
      resume: perStep.checkpoints[0],
    });
    const after = (o: Observed) => ({
      ...o,
      events: o.events.slice(o.events.indexOf("checkpoint 5") + 1),
      embeddings: o.embeddings.filter(([s]) => s > 5),
      checkpoints: o.checkpoints.filter((c) => c.step > 5),
    });
    assertSameRun(after(perStep), resumed, `${backend} resumed`);
  });

  Deno.test(`${backend}: a run that diverges inside a read window stops at the first bad step with the same record`, async () => {
    const perStep = await observe(backend, EXPLODING, { readEvery: 1 });
    const windowed = await observe(backend, EXPLODING, { readEvery: 8 });
    assert.ok(perStep.error, "the exploding config must diverge");
    const { step, quantity } = perStep.error.divergence;
    assert.equal(quantity, "loss");
    // Inside the first window of 8, after a snapshot (step 2).
    assert.ok(step > 2 && step < 8, `diverged at step ${step}`);
    assert.equal(perStep.error.losses.length, step);
    assert.deepEqual(perStep.events.at(-1)!.split(" ")[1], `${step - 1}/12`);
    assertSameRun(perStep, windowed, `${backend} diverging`);
  });
}

Deno.test({
  name:
    "webgpu: per-step reads through the GPU log equal onnxruntime's own download of the loss",
  ignore: !hasGpu,
  fn: async () => {
    const engine = await loadEngine("webgpu");
    const step = compileStep(stepConfigOf(TINY));
    // The state stays on the GPU; loss and grad_norm come back the way
    // onnxruntime returns CPU outputs; the embedding by a range copy.
    const session = await engine.load(step.onnx, {
      deviceOutputs: ["new.params", "new.m", "new.v"],
    });
    const wte = step.params.find((p) => p.name === "transformer.wte.weight")!;
    const losses: number[] = [], norms: number[] = [];
    const embeddings: [number, number[]][] = [];
    try {
      const init = initialParameters(TINY);
      const flat = new Float32Array(step.totalSize);
      for (const p of step.params) flat.set(init.get(p.name)!, p.offset);
      const dims = [step.totalSize];
      let state: Record<string, OrtTensor> = {
        params: session.tensor(flat, dims),
        m: session.tensor(new Float32Array(flat.length), dims),
        v: session.tensor(new Float32Array(flat.length), dims),
      };
      const host = new HostStreams(TINY, corpus.length);
      const [B, T] = [TINY.batchSize, TINY.seqLen];
      const snap = async (t: number) =>
        embeddings.push([
          t,
          bits(await session.readRange(state.params, wte.offset, wte.size)),
        ]);
      await snap(0);
      for (let t = 1; t <= STEPS; t++) {
        const s = host.next();
        const batch = makeBatch(corpus, s.offsets, T, TINY.objective);
        const out = await session.run({
          ...state,
          input_ids: session.tensor(batch.inputIds, [B, T]),
          targets: session.tensor(batch.targets, [B, T]),
          loss_weights: session.tensor(batch.weights, [B, T]),
          lr_wd: session.tensor(new Float32Array([s.scalars.lrWd]), []),
          step_size: session.tensor(new Float32Array([s.scalars.stepSize]), []),
          bc2_sqrt: session.tensor(new Float32Array([s.scalars.bc2Sqrt]), []),
        });
        assert.equal(out.loss.location, "cpu");
        losses.push((out.loss.data as Float32Array)[0]);
        norms.push((out.grad_norm.data as Float32Array)[0]);
        for (const t of Object.values(state)) session.dispose(t);
        state = {
          params: out["new.params"],
          m: out["new.m"],
          v: out["new.v"],
        };
        if (t % 2 === 0) await snap(t);
      }
      for (const t of Object.values(state)) session.dispose(t);
    } finally {
      await session.release();
    }
    const logged = await observe("webgpu", TINY, {
      readEvery: 1,
      checkpointEvery: 0,
    });
    assert.deepEqual(
      bits(logged.result!.losses),
      bits(new Float32Array(losses)),
    );
    assert.deepEqual(
      bits(logged.result!.gradNorms),
      bits(new Float32Array(norms)),
    );
    assert.deepEqual(logged.embeddings, embeddings);
  },
});
