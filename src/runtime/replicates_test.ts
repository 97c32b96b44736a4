// Replicates in one graph on the cpu engine: every replicate of
// trainReplicates() must reproduce its solo train() run bit for bit (losses,
// gradient norms, embedding snapshots, final parameters), through read
// windows, checkpoints and resumption, and a replicate that diverges must end
// alone. The same holds on wasm (checked at the seeds' size, which is what
// REPLICATES_MATCH_SOLO in engine.ts rests on). The seed-size cases matter: onnxruntime picks kernels and splits
// work by tensor size, and the reductions that first broke bit-identity only
// did so at B=32, T=128.

import assert from "node:assert/strict";
import { TINY_RUN, webgpuForTests } from "../testing/helpers.ts";
import { SEED_MODEL } from "../model/config.ts";
import { SEED_RUN, type TrainConfig } from "../step/config.ts";
import { cpuEngine } from "./cpu.ts";
import { wasmEngine } from "./wasm.ts";
import { DivergedError } from "./divergence.ts";
import {
  train,
  type TrainerCheckpoint,
  trainReplicates,
  type TrainResult,
} from "./trainer.ts";

const corpus = new TextEncoder().encode(
  "A quick brown fox jumps over the lazy dog; 12 zebras quietly vex. ".repeat(
    80,
  ),
);
const choice = { engine: cpuEngine, reason: "test", adapter: null };
const WTE = "transformer.wte.weight";

/** Three runs of one step graph: other seeds, other noise scales. */
function variants(base: TrainConfig): TrainConfig[] {
  return [1, 2, 3].map((seed) => ({
    ...base,
    seed,
    noise: base.noise
      ? { ...base.noise, scale: base.noise.scale * seed }
      : null,
  }));
}

/** What a run produced that must be identical, snapshots included. */
interface Observed {
  result: TrainResult;
  snapshots: Map<number, Float32Array>;
  steps: number[];
}

function assertSameRun(got: Observed, want: Observed, what: string): void {
  assert.deepEqual(got.result.losses, want.result.losses, `${what}: losses`);
  assert.deepEqual(
    got.result.gradNorms,
    want.result.gradNorms,
    `${what}: gradient norms`,
  );
  assert.deepEqual(got.steps, want.steps, `${what}: reported steps`);
  assert.deepEqual(
    [...got.snapshots.keys()],
    [...want.snapshots.keys()],
    `${what}: snapshot steps`,
  );
  for (const [step, wte] of want.snapshots) {
    assert.deepEqual(got.snapshots.get(step), wte, `${what}: wte at ${step}`);
  }
  for (const [name, values] of want.result.finalParams) {
    assert.deepEqual(
      got.result.finalParams.get(name),
      values,
      `${what}: final ${name}`,
    );
  }
}

async function solo(config: TrainConfig, steps: number): Promise<Observed> {
  const snapshots = new Map<number, Float32Array>();
  const seen: number[] = [];
  const result = await train(config, corpus, {
    choice,
    steps,
    embeddingEvery: 2,
    onEmbedding: (s, wte) => void snapshots.set(s, wte.slice()),
    onStep: ({ step }) => void seen.push(step),
  });
  return { result, snapshots, steps: seen };
}

async function together(
  configs: TrainConfig[],
  steps: number,
  readEvery = 1,
): Promise<Observed[]> {
  const observed = configs.map(() => ({
    snapshots: new Map<number, Float32Array>(),
    steps: [] as number[],
  }));
  const outcomes = await trainReplicates(configs, corpus, {
    choice,
    steps,
    readEvery,
    embeddingEvery: 2,
    replicates: observed.map((o) => ({
      onEmbedding: (s: number, wte: Float32Array) =>
        void o.snapshots.set(s, wte.slice()),
      onStep: ({ step }: { step: number }) => void o.steps.push(step),
    })),
  });
  return outcomes.map((outcome, r) => {
    if (!outcome.ok) throw outcome.error;
    return { ...observed[r], result: outcome.result };
  });
}

const withNoise = (c: TrainConfig): TrainConfig => ({
  ...c,
  noise: { param: WTE, scale: 3e-6 },
});

Deno.test("trainReplicates: each replicate is its solo run, bit for bit (tiny, every precision)", async () => {
  const bases: [string, TrainConfig][] = [
    ["bf16 + noise", withNoise(TINY_RUN)],
    ["fp32", { ...TINY_RUN, precision: "fp32" }],
    ["autocast", { ...TINY_RUN, autocast: true }],
    ["bf16-pure rmsnorm", {
      ...withNoise(TINY_RUN),
      precision: "bf16-pure",
      model: { ...TINY_RUN.model, norm: "rmsnorm" },
    }],
  ];
  for (const [label, base] of bases) {
    const configs = variants(base);
    const got = await together(configs, 6, 4);
    for (const [r, c] of configs.entries()) {
      assertSameRun(got[r], await solo(c, 6), `${label}, replicate ${r}`);
    }
  }
});

Deno.test("trainReplicates: bit-identical at the seeds' size (B=32, T=128)", async () => {
  const seedSize = (c: Partial<TrainConfig>): TrainConfig => ({
    ...SEED_RUN,
    ...c,
  });
  for (
    const base of [
      seedSize({ noise: { param: WTE, scale: 3e-6 } }),
      seedSize({ precision: "fp32" }),
      seedSize({
        precision: "bf16-pure",
        model: { ...SEED_MODEL, norm: "rmsnorm" },
      }),
    ]
  ) {
    const configs = variants(base).slice(0, 2);
    const got = await together(configs, 3);
    for (const [r, c] of configs.entries()) {
      assertSameRun(got[r], await solo(c, 3), `${base.precision} ${r}`);
    }
  }
});

Deno.test("trainReplicates: bit-identical on wasm at the seeds' size", async () => {
  const wasm = { engine: wasmEngine, reason: "test", adapter: null };
  const configs = variants({
    ...SEED_RUN,
    noise: { param: WTE, scale: 3e-6 },
  }).slice(0, 2);
  const outcomes = await trainReplicates(configs, corpus, {
    choice: wasm,
    steps: 2,
  });
  for (const [r, c] of configs.entries()) {
    const outcome = outcomes[r];
    assert.ok(outcome.ok);
    const alone = await train(c, corpus, { choice: wasm, steps: 2 });
    assert.deepEqual(outcome.result.losses, alone.losses);
    assert.deepEqual(outcome.result.gradNorms, alone.gradNorms);
    for (const [name, values] of alone.finalParams) {
      assert.deepEqual(outcome.result.finalParams.get(name), values, name);
    }
  }
});

Deno.test("trainReplicates: checkpoints resume every replicate where it stopped", async () => {
  const configs = variants(withNoise(TINY_RUN));
  const saved: TrainerCheckpoint[][] = configs.map(() => []);
  const straight = await trainReplicates(configs, corpus, {
    choice,
    steps: 6,
    checkpointEvery: 3,
    replicates: saved.map((list) => ({
      onCheckpoint: (c: TrainerCheckpoint) => {
        list.push(c);
        return Promise.resolve();
      },
    })),
  });
  assert.deepEqual(saved.map((l) => l.map((c) => c.step)), [[3], [3], [3]]);
  const resumed = await trainReplicates(configs, corpus, {
    choice,
    steps: 6,
    replicates: saved.map(([c]) => ({ resume: c })),
  });
  for (const [r, outcome] of resumed.entries()) {
    const want = straight[r];
    assert.ok(outcome.ok && want.ok);
    assert.deepEqual(outcome.result.losses, want.result.losses);
    assert.deepEqual(
      outcome.result.finalParams.get(WTE),
      want.result.finalParams.get(WTE),
    );
  }
  await assert.rejects(
    trainReplicates(configs, corpus, {
      choice,
      steps: 6,
      replicates: [{ resume: saved[0][0] }, {}, {}],
    }),
    /must all resume at the same step/,
  );
});

Deno.test("trainReplicates: a diverging replicate ends alone; the others are their solo runs", async () => {
  const configs = variants(withNoise(TINY_RUN));
  // Noise of 1e38 per step overflows the embedding at once.
  configs[1] = { ...configs[1], noise: { param: WTE, scale: 1e38 } };
  const outcomes = await trainReplicates(configs, corpus, {
    choice,
    steps: 4,
  });
  assert.equal(outcomes[1].ok, false);
  assert.ok(!outcomes[1].ok && outcomes[1].error instanceof DivergedError);
  for (const r of [0, 2]) {
    const outcome = outcomes[r];
    assert.ok(outcome.ok);
    const alone = await train(configs[r], corpus, { choice, steps: 4 });
    assert.deepEqual(outcome.result.losses, alone.losses);
    assert.deepEqual(
      outcome.result.finalParams.get(WTE),
      alone.finalParams.get(WTE),
    );
  }
});

Deno.test("trainReplicates: configs of different graphs are refused", async () => {
  await assert.rejects(
    trainReplicates([TINY_RUN, { ...TINY_RUN, precision: "fp32" }], corpus, {
      choice,
      steps: 1,
    }),
    /share one step graph/,
  );
});

Deno.test({
  name:
    "trainReplicates: float32-close to solo runs on WebGPU (why its packed keys name R)",
  ignore: !(await webgpuForTests()),
  fn: async () => {
    const configs = variants(withNoise(TINY_RUN)).slice(0, 2);
    const outcomes = await trainReplicates(configs, corpus, {
      backend: "webgpu",
      steps: 3,
    });
    for (const [r, c] of configs.entries()) {
      const outcome = outcomes[r];
      assert.ok(outcome.ok);
      const alone = await train(c, corpus, { backend: "webgpu", steps: 3 });
      outcome.result.losses.forEach((loss, i) => {
        const rel = Math.abs(loss - alone.losses[i]) / alone.losses[i];
        assert.ok(rel < 1e-5, `replicate ${r} step ${i + 1}: rel ${rel}`);
      });
    }
  },
});
