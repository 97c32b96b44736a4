// Stochastic rounding against PyTorch fed the same random bits
// (tools/reference/make_stochastic_rounding.py: torch's float32 step, then
// the bit-level rule on int32 views, the 16-bit draws from an independent
// Python PCG32 on the same seed and stream).
//
// Tolerance: the same kind as the nearest-even bf16 reference
// (reference_test.ts). Both sides round the same float32 update with the
// same r, so an element can differ only where the two float32 updates
// differ in their last bits (another summation order in the backward pass;
// most of all where a gradient is float32 noise around zero and Adam moves
// by ~lr either way) and r falls between their low 16 bits. Bounds: at most
// 1% of the elements differ, none by more than 2 * lr0 (an Adam move either
// way), after one update (all 116,480 parameters) and after 4 (the token
// embedding); losses within 1e-5 relative (float32 noise, as in
// reference_test.ts). Measured (torch 1.13 CPU): 130 of 116,480 differ after
// one update, max 8.2e-7; 1 of 8,192 after 4; losses 1e-7 relative.
//
// The same comparison with stochastic rounding switched off (nearest-even,
// same everything else) must fail: nearest and stochastic rounding pick
// different neighbours for about a quarter of the elements (min(f, 1 - f)
// on average over a uniform fraction f). Measured: 29,211 of 116,480
// (25.1%) differ after one update, max 7.8e-3; 4,560 of 8,192 after 4;
// losses 1.4e-4 relative.

import assert from "node:assert/strict";
import { SEED_MODEL } from "../model/config.ts";
import { HF_ADAMW, stepScalars } from "./adamw.ts";
import {
  fixtureBatch,
  floats,
  ints,
  openReferenceFixture,
} from "../testing/reference_fixture.ts";
import { compileStep, type StepConfig } from "./step.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import { StepRunner } from "../runtime/runner.ts";
import { Pcg32, Stream } from "../data/rng.ts";
import { roundingUniforms } from "./stochastic_rounding.ts";

const fixture = (name: string) =>
  new URL(`../../fixtures/reference/${name}`, import.meta.url).pathname;

const sr = await openReferenceFixture(
  fixture("gpt2_tiny_sr_v1.safetensors.br"),
);
assert.equal(sr.metadata.magic, "horizon-reference");
assert.equal(sr.metadata.version, "1");
const c = JSON.parse(sr.metadata.cases).sr as {
  B: number;
  T: number;
  steps: number;
  lr0: number;
  seed: number;
  stream: number;
};
assert.equal(c.stream, Stream.rounding);
// Init and batches: make_reference.py's ln_bf16 case, which the SR fixture
// shares.
const base = await openReferenceFixture(fixture("gpt2_tiny_v1.safetensors.br"));

async function bf16(name: string): Promise<Float32Array> {
  assert.equal(sr.tensor(name).dtype, "BF16");
  return await floats(sr, name);
}

/** Share of elements that differ, and the largest difference. */
function agreement(got: Float32Array, want: Float32Array) {
  assert.equal(got.length, want.length);
  let differ = 0, maxDiff = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (d > 0) differ++;
    maxDiff = Math.max(maxDiff, d);
  }
  return { share: differ / got.length, differ, maxDiff };
}

interface Trained {
  losses: number[];
  after1: Float32Array;
  wte: Float32Array;
}

async function train(stochastic: boolean): Promise<Trained> {
  const cfg: StepConfig = {
    model: { ...SEED_MODEL, norm: "layernorm" },
    batchSize: c.B,
    seqLen: c.T,
    precision: "bf16",
    adamw: { ...HF_ADAMW, lr: c.lr0 },
    clipNorm: 1.0,
    decay: "hf-trainer",
    noiseParam: null,
    ...(stochastic ? { rounding: "stochastic" as const } : {}),
  };
  const step = compileStep(cfg, "train");
  const init = new Map<string, Float32Array>();
  for (const p of step.params) {
    init.set(p.name, await floats(base, `ln_bf16.init.${p.name}`));
  }
  const chunks = await ints(base, "ln_bf16.chunks");
  const rng = new Pcg32(c.seed, Stream.rounding);
  const runner = await StepRunner.create(cpuEngine, step, init, {
    threads: 1,
  });
  try {
    const losses: number[] = [];
    let after1 = new Float32Array(0);
    for (let t = 0; t < c.steps; t++) {
      const out = await runner.run({
        batch: fixtureBatch(chunks, t, c, "double-shift"),
        scalars: stepScalars(cfg.adamw, t, c.steps),
        ...(stochastic
          ? {
            rounding: roundingUniforms(rng, new Float32Array(step.totalSize)),
          }
          : {}),
      });
      losses.push(out.loss);
      if (t === 0) {
        after1 = new Float32Array(step.totalSize);
        for (const p of step.params) {
          after1.set(await runner.read(p.name), p.offset);
        }
      }
    }
    return { losses, after1, wte: await runner.read("transformer.wte.weight") };
  } finally {
    await runner.release();
  }
}

/** The bounds of the header comment; returns what failed (empty: agrees). */
async function check(got: Trained, label: string): Promise<string[]> {
  const failed: string[] = [];
  const refLoss = await floats(sr, "sr.loss");
  const lossRel = Math.max(
    ...got.losses.map((l, t) => Math.abs(l - refLoss[t]) / refLoss[t]),
  );
  const a1 = agreement(got.after1, await bf16("sr.after1.params"));
  const a4 = agreement(got.wte, await bf16(`sr.after${c.steps}.wte`));
  console.log(
    `${label}: loss rel ${
      lossRel.toExponential(1)
    }; after1 ${a1.differ}/${got.after1.length} differ (max ${
      a1.maxDiff.toExponential(2)
    }); after${c.steps} wte ${a4.differ}/${got.wte.length} differ (max ${
      a4.maxDiff.toExponential(2)
    })`,
  );
  if (lossRel > 1e-5) failed.push(`loss rel ${lossRel}`);
  // At most 1% differ, none by more than 2 * lr0 (an Adam move either way).
  if (a1.share > 0.01) failed.push(`after1: ${a1.differ} differ`);
  if (a1.maxDiff > 2 * c.lr0) failed.push(`after1: max ${a1.maxDiff}`);
  if (a4.share > 0.01) failed.push(`after${c.steps} wte: ${a4.differ} differ`);
  if (a4.maxDiff > 2 * c.lr0) failed.push(`wte: max ${a4.maxDiff}`);
  return failed;
}

Deno.test("stochastic rounding agrees with PyTorch fed the same random bits", async () => {
  assert.deepEqual(await check(await train(true), "stochastic"), []);
});

Deno.test("the same comparison with stochastic rounding switched off fails", async () => {
  const failed = await check(await train(false), "nearest (mode off)");
  assert.ok(
    failed.some((f) => f.startsWith("after1:")),
    `nearest-even passed the stochastic-rounding reference: ${failed}`,
  );
});
