// A run's exported trace (initial parameters, window offsets, noise, loss) is
// enough to replay it step by step outside the trainer: replaying through a
// bare StepRunner must give the same losses bit for bit.

import assert from "node:assert/strict";
import { loadCorpus } from "../data/corpus.ts";
import { bf16BytesToFloat32, openSafetensors } from "../io/safetensors/mod.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import { StepRunner } from "../runtime/runner.ts";
import { stepScalars } from "../step/adamw.ts";
import { SEED_RUN, stepConfigOf } from "../step/config.ts";
import { makeBatch } from "../data/sampler.ts";
import { compileStep } from "../step/step.ts";
import { DEFAULT_CORPUS } from "../history/locations.ts";
import { runHypothesis } from "./run.ts";
import type { Hypothesis } from "../hypothesis/types.ts";

Deno.test("a trace replays the run bit for bit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "horizon_trace_" });
  try {
    const config = {
      ...SEED_RUN,
      batchSize: 2,
      seqLen: 16,
      maxSteps: 100,
      noise: { param: "transformer.wte.weight", scale: 3e-6 },
    };
    const h: Hypothesis = {
      id: "trace-check",
      title: "trace",
      question: "",
      background: "",
      design: "",
      config,
      expectation: { verdict: "positive", reasoning: "" },
      smoke: { steps: 6, justification: "" },
    };
    const run = await runHypothesis(h, {
      tier: "smoke",
      backend: "cpu",
      trace: true,
      cacheDir: dir,
      recordsDir: dir,
      useCache: false,
    });
    const trace = await openSafetensors(
      `${dir}/traces/trace-check-smoke-seed42-cpu.safetensors`,
    );
    const noiseFile = await openSafetensors(
      `${dir}/traces/trace-check-smoke-seed42-cpu.noise.safetensors`,
    );
    try {
      const step = compileStep(stepConfigOf(config));
      const init = new Map<string, Float32Array>();
      for (const p of step.params) {
        const b = await trace.readTensorBytes(`init.${p.name}`);
        init.set(p.name, new Float32Array(b.slice().buffer));
      }
      const offsets = new Int32Array(
        (await trace.readTensorBytes("offsets")).slice().buffer,
      );
      const noise = bf16BytesToFloat32(
        await noiseFile.readTensorBytes("noise"),
      );
      const corpus = await loadCorpus(DEFAULT_CORPUS, {
        context: config.seqLen,
      });
      const runner = await StepRunner.create(cpuEngine, step, init);
      const vd = 128 * 64;
      try {
        for (let t = 0; t < run.steps; t++) {
          const out = await runner.run({
            batch: makeBatch(
              corpus.bytes,
              offsets.subarray(
                t * config.batchSize,
                (t + 1) * config.batchSize,
              ),
              config.seqLen,
              config.objective,
            ),
            scalars: stepScalars(config.adamw, t, config.maxSteps),
            noise: noise.subarray(t * vd, (t + 1) * vd),
          });
          assert.ok(
            Object.is(Math.fround(out.loss), Math.fround(run.loss[t])),
            `step ${t + 1}: replayed loss ${out.loss} != ${run.loss[t]}`,
          );
        }
      } finally {
        await runner.release();
      }
    } finally {
      trace.close();
      noiseFile.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
