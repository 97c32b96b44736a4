// Reading the embedding (history) and the state (checkpoints) on WebGPU must
// leave the resident state on the GPU: onnxruntime-web's getData() on a
// GPU tensor downloads all of it and relabels it a CPU tensor, after which
// every step re-uploads it and its GPU buffer is never freed (a leak of
// ~0.5 MB per step). Runs when an adapter exists (lavapipe in CI).

import assert from "node:assert/strict";
import { TINY_RUN, webgpuForTests } from "../testing/helpers.ts";
import { stepConfigOf, type TrainConfig } from "../step/config.ts";
import { HostStreams, initialParameters } from "../step/host_streams.ts";
import { makeBatch } from "../data/sampler.ts";
import { compileStep } from "../step/step.ts";
import { loadEngine } from "./backend.ts";
import { StepRunner } from "./runner.ts";

const TINY: TrainConfig = TINY_RUN;
const hasGpu = await webgpuForTests();

Deno.test({
  name:
    "webgpu: reading the embedding and the state keeps them GPU-resident, and matches the cpu engine's values",
  ignore: !hasGpu,
  fn: async () => {
    const corpus = new TextEncoder().encode("the quick brown fox ".repeat(50));
    const compiled = compileStep(stepConfigOf(TINY));
    const runners = await Promise.all(
      (["webgpu", "cpu"] as const).map(async (b) =>
        await StepRunner.create(
          await loadEngine(b),
          compiled,
          initialParameters(TINY),
        )
      ),
    );
    const [gpu, cpu] = runners;
    try {
      for (const runner of runners) {
        const host = new HostStreams(TINY, corpus.length);
        for (let t = 0; t < 3; t++) {
          const s = host.next();
          await runner.run({
            batch: makeBatch(corpus, s.offsets, TINY.seqLen, TINY.objective),
            scalars: s.scalars,
          });
        }
      }
      const wteGpu = await gpu.read("transformer.wte.weight");
      assert.equal(gpu.stateLocation("params"), "gpu-buffer");
      const mGpu = await gpu.readState("m");
      assert.equal(gpu.stateLocation("m"), "gpu-buffer");
      assert.equal(wteGpu.length, 128 * 64);
      // The slice is the right one: equal (to float32 tolerance) to cpu's.
      const wteCpu = await cpu.read("transformer.wte.weight");
      const mCpu = await cpu.readState("m");
      let worst = 0;
      for (let i = 0; i < wteCpu.length; i++) {
        worst = Math.max(worst, Math.abs(wteGpu[i] - wteCpu[i]));
      }
      assert.ok(worst < 1e-2, `wte differs by ${worst}`);
      assert.equal(mGpu.length, mCpu.length);
      // A further step still runs on the resident state.
      const host = new HostStreams(TINY, corpus.length);
      const s = host.next();
      const out = await gpu.run({
        batch: makeBatch(corpus, s.offsets, TINY.seqLen, TINY.objective),
        scalars: s.scalars,
      });
      assert.ok(Number.isFinite(out.loss));
      assert.equal(gpu.stateLocation("params"), "gpu-buffer");
    } finally {
      for (const r of runners) await r.release();
    }
  },
});
