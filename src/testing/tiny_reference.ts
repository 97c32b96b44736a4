/**
 * Shared by the small mode fixtures (`tools/reference/tiny_gpt2.py`: untied
 * head, dropout): a tiny model's case read back from its fixture, its step-0
 * gradients and a few AdamW steps run on the cpu backend, and the
 * comparisons with the tolerances tools/reference/README.md derives from
 * float32-vs-float64 noise.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ModelConfig } from "../model/config.ts";
import { HF_ADAMW, stepScalars } from "../step/adamw.ts";
import { roundArrayToBf16 } from "../data/bf16.ts";
import { compileStep, type StepConfig } from "../step/step.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import { type StepFeed, StepRunner } from "../runtime/runner.ts";
import {
  fixtureBatch,
  type FixtureTensors,
  floats,
  ints,
} from "./reference_fixture.ts";
import type { Batch } from "../data/sampler.ts";

/** A case of a tiny fixture, as its metadata describes it. */
export interface TinyCase {
  readonly precision: "fp32" | "bf16";
  readonly B: number;
  readonly T: number;
  readonly steps: number;
  readonly lr0: number;
}

/** The fixture's `common.model` entry. */
export interface TinyModel {
  readonly vocab: number;
  readonly d: number;
  readonly n_layer: number;
  readonly n_head: number;
  readonly n_pos: number;
  readonly tied: boolean;
}

/** horizon's model config for a fixture's model. */
export function modelOf(m: TinyModel): ModelConfig {
  return {
    vocabSize: m.vocab,
    dModel: m.d,
    nLayer: m.n_layer,
    nHead: m.n_head,
    context: m.n_pos,
    norm: "layernorm",
    normEps: 1e-5,
    tiedHead: m.tied,
  };
}

/** The step of a case: HF AdamW at the case's lr, clip 1.0, HF decay. */
export function stepConfigOf(model: ModelConfig, c: TinyCase): StepConfig {
  return {
    model,
    batchSize: c.B,
    seqLen: c.T,
    precision: c.precision,
    adamw: { ...HF_ADAMW, lr: c.lr0 },
    clipNorm: 1.0,
    decay: "hf-trainer",
    noiseParam: null,
  };
}

/** Initial parameters `init.<name>`, bf16-rounded for a bf16 case. */
export async function initOf(
  file: FixtureTensors,
  cfg: StepConfig,
): Promise<Map<string, Float32Array>> {
  const init = new Map<string, Float32Array>();
  for (const p of compileStep(cfg, "gradients").params) {
    const v = await floats(file, `init.${p.name}`);
    init.set(p.name, cfg.precision === "bf16" ? roundArrayToBf16(v) : v);
  }
  return init;
}

/** Step `t`'s batch of the fixture's shared windows. */
export async function batchAt(
  file: FixtureTensors,
  c: TinyCase,
  t: number,
): Promise<Batch> {
  return fixtureBatch(await ints(file, "chunks"), t, c, "double-shift");
}

/** max |a - b| relative to max |b|. */
export function relDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0, ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return diff / Math.max(ref, 1e-30);
}

/** Relative bounds (to max |ref|) of step-0 quantities (README.md). */
export const STEP0_TOL = { logits: 1e-5, loss: 1e-6, grad: 1e-4 } as const;

/** Step 0 of `cfg` (the gradients graph): loss, logits, raw gradients. */
export async function gradientsAt0(
  cfg: StepConfig,
  init: ReadonlyMap<string, Float32Array>,
  batch: Batch,
  extra: Readonly<Record<string, Float32Array>> = {},
): Promise<
  { loss: number; logits: Float32Array; grads: Map<string, Float32Array> }
> {
  const step = compileStep(cfg, "gradients");
  const s = await cpuEngine.load(step.onnx);
  try {
    const flat = new Float32Array(step.totalSize);
    for (const p of step.params) flat.set(init.get(p.name)!, p.offset);
    const { batchSize: B, seqLen: T } = cfg;
    const feeds: Record<string, ReturnType<typeof s.tensor>> = {
      params: s.tensor(flat, [step.totalSize]),
      input_ids: s.tensor(batch.inputIds, [B, T]),
      targets: s.tensor(batch.targets, [B, T]),
      loss_weights: s.tensor(batch.weights, [B, T]),
    };
    for (const [name, v] of Object.entries(extra)) {
      feeds[name] = s.tensor(
        v,
        step.inputs.find((i) => i.name === name)!.shape,
      );
    }
    const out = await s.run(feeds);
    const grads = new Map<string, Float32Array>();
    for (const p of step.params) {
      grads.set(p.name, (out[`grad.${p.name}`].data as Float32Array).slice());
    }
    return {
      loss: (out.loss.data as Float32Array)[0],
      logits: (out.logits.data as Float32Array).slice(),
      grads,
    };
  } finally {
    await s.release();
  }
}

/** What {@link trainSteps} saw: losses, and the parameters at the end. */
export interface Trained {
  readonly losses: Float32Array;
  readonly params: Map<string, Float32Array>;
}

/** `steps` AdamW steps of `cfg` on the cpu backend, one thread. */
export async function trainSteps(
  cfg: StepConfig,
  init: ReadonlyMap<string, Float32Array>,
  steps: number,
  feedAt: (t: number) => Promise<Omit<StepFeed, "scalars">>,
): Promise<Trained> {
  const step = compileStep(cfg, "train");
  const runner = await StepRunner.create(cpuEngine, step, init, { threads: 1 });
  try {
    const losses = new Float32Array(steps);
    for (let t = 0; t < steps; t++) {
      const f = await feedAt(t);
      const out = await runner.run({
        ...f,
        scalars: stepScalars(cfg.adamw, t, steps),
      });
      losses[t] = out.loss;
    }
    const params = new Map<string, Float32Array>();
    for (const p of step.params) params.set(p.name, await runner.read(p.name));
    return { losses, params };
  } finally {
    await runner.release();
  }
}

/**
 * Parameters after a few AdamW steps against the reference, with README.md's
 * bounds: fp32, no element beyond 2 lr0 and at most 0.1% beyond 1e-5 (Adam
 * turns float32 noise in near-zero gradients into moves of up to ~lr);
 * bf16, at most 1% of elements differ and none by more than 5e-4 (a
 * rounding that lands one bf16 ulp away). Returns a summary line.
 */
export async function checkParams(
  file: FixtureTensors,
  prefix: string,
  got: ReadonlyMap<string, Float32Array>,
  c: TinyCase,
): Promise<string> {
  let max = 0, far = 0, differ = 0, total = 0;
  for (const [name, v] of got) {
    const ref = await floats(file, `${prefix}.${name}`);
    assert.equal(v.length, ref.length, name);
    for (let i = 0; i < v.length; i++) {
      const d = Math.abs(v[i] - ref[i]);
      max = Math.max(max, d);
      if (d > 1e-5) far++;
      if (d > 0) differ++;
    }
    total += v.length;
  }
  const line = `${prefix}: max|diff| ${
    max.toExponential(2)
  }, ${differ}/${total} differ, ${far} beyond 1e-5`;
  if (c.precision === "fp32") {
    assert.ok(max <= 2 * c.lr0, line);
    assert.ok(far <= 1e-3 * total, line);
  } else {
    assert.ok(max <= 5e-4, line);
    assert.ok(differ <= 1e-2 * total, line);
  }
  return line;
}
