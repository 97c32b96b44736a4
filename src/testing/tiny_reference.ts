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
  openReferenceFixture,
} from "./reference_fixture.ts";
import { assertStateBounds, StateDistance } from "./reference_bounds.ts";
import type { Batch } from "../data/sampler.ts";

/** A case of a tiny fixture, as its metadata describes it. */
export interface TinyCase {
  readonly precision: "fp32" | "bf16";
  readonly B: number;
  readonly T: number;
  readonly steps: number;
  readonly lr0: number;
  /** HF Trainer's weight-decay rule, per parameter name. */
  readonly weight_decay_mask: Readonly<Record<string, boolean>>;
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

/** A small fixture read back: its tensors, `common` entry and cases. */
export interface TinyFixture<Common> {
  readonly file: FixtureTensors;
  readonly common: Common;
  /** Every case but `common`, in the metadata's order. */
  readonly cases: readonly (readonly [string, TinyCase])[];
}

/**
 * Opens `fixtures/reference/<name>` (a version-1 horizon reference) and
 * splits its `cases` metadata into the `common` entry and the cases.
 */
export async function openTinyFixture<Common extends { model: TinyModel }>(
  name: string,
): Promise<TinyFixture<Common>> {
  const file = await openReferenceFixture(
    new URL(`../../fixtures/reference/${name}`, import.meta.url).pathname,
  );
  assert.equal(file.metadata.magic, "horizon-reference");
  assert.equal(file.metadata.version, "1");
  const { common, ...cases } = JSON.parse(file.metadata.cases) as
    & { common: Common }
    & Record<string, TinyCase>;
  return { file, common, cases: Object.entries(cases) };
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

/**
 * The step of a case: HF AdamW at the case's lr, clip 1.0, HF decay, no
 * noise (every reference fixture's contract; reference_test.ts adds noise).
 */
export function stepConfigOf(
  model: ModelConfig,
  c: Pick<TinyCase, "precision" | "B" | "T" | "lr0">,
): StepConfig {
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

/** Relative bound on the losses of a few AdamW steps (README.md). */
export const STEPS_LOSS_TOL = 1e-5;

/** What {@link gradientsAt0} computed. */
export interface Step0 {
  readonly loss: number;
  readonly logits: Float32Array;
  /** Raw (unclipped) gradients by parameter name. */
  readonly grads: Map<string, Float32Array>;
}

/** Step 0 of `cfg` (the gradients graph): loss, logits, raw gradients. */
export async function gradientsAt0(
  cfg: StepConfig,
  init: ReadonlyMap<string, Float32Array>,
  batch: Batch,
  extra: Readonly<Record<string, Float32Array>> = {},
): Promise<Step0> {
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

/** Relative distance of step-0 results from case `name`'s reference. */
export interface Step0Distance {
  readonly loss: number;
  /** Logits (stored for fp32 cases only; null for bf16). */
  readonly logits: number | null;
  /** The worst gradient ({@link relDiff} per tensor) and its parameter. */
  readonly grad: number;
  readonly gradParam: string;
}

/** One case of a fixture: its tensors are named `<name>.*` in `file`. */
export interface ReferenceCase {
  readonly file: FixtureTensors;
  readonly name: string;
  readonly c: TinyCase;
}

/** How far `got` (step 0 of the case) is from the reference. */
export async function step0Distance(
  { file, name, c }: ReferenceCase,
  got: Step0,
): Promise<Step0Distance> {
  const refLoss = (await floats(file, `${name}.loss`))[0];
  const loss = Math.abs(got.loss - refLoss) / Math.abs(refLoss);
  const logits = c.precision === "fp32"
    ? relDiff(got.logits, await floats(file, `${name}.step0.logits`))
    : null;
  let grad = 0, gradParam = "";
  for (const [p, g] of got.grads) {
    const r = relDiff(g, await floats(file, `${name}.step0.grad.${p}`));
    // A NaN distance (a NaN gradient) is the worst of all, never skipped.
    if (!(r < grad)) [grad, gradParam] = [r, p];
  }
  return { loss, logits, grad, gradParam };
}

/** {@link step0Distance} within {@link STEP0_TOL}; returns a log line. */
export async function checkStep0(
  ref: ReferenceCase,
  got: Step0,
): Promise<string> {
  const d = await step0Distance(ref, got);
  assert.ok(d.loss <= STEP0_TOL.loss, `loss rel ${d.loss}`);
  if (d.logits !== null) {
    assert.ok(d.logits <= STEP0_TOL.logits, `logits rel ${d.logits}`);
  }
  assert.ok(d.grad <= STEP0_TOL.grad, `grad ${d.gradParam}: rel ${d.grad}`);
  return `loss rel ${d.loss.toExponential(2)}, worst gradient rel ${
    d.grad.toExponential(2)
  }`;
}

/** What {@link trainSteps} saw: losses, and the parameters at the end. */
export interface Trained {
  readonly losses: Float32Array;
  readonly params: Map<string, Float32Array>;
}

/** What {@link trainSteps} trains: a step config from initial parameters. */
export interface TrainFrom {
  readonly config: StepConfig;
  readonly init: ReadonlyMap<string, Float32Array>;
  /** Step t's inputs besides its batch and scalars (dropout masks). */
  readonly extraAt?: (t: number) => Omit<StepFeed, "scalars" | "batch">;
}

/**
 * The case's AdamW steps of `run.config` on the fixture's batches (cpu
 * backend, one thread).
 */
export async function trainSteps(
  { file, c }: Pick<ReferenceCase, "file" | "c">,
  run: TrainFrom,
): Promise<Trained> {
  const { config: cfg, init, extraAt = () => ({}) } = run;
  const step = compileStep(cfg, "train");
  const runner = await StepRunner.create(cpuEngine, step, init, { threads: 1 });
  try {
    const losses = new Float32Array(c.steps);
    for (let t = 0; t < c.steps; t++) {
      const out = await runner.run({
        ...extraAt(t),
        batch: await batchAt(file, c, t),
        scalars: stepScalars(cfg.adamw, t, c.steps),
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
 * Parameters after the case's AdamW steps (`<name>.after<steps>.*`) against
 * the reference, with README.md's bounds: fp32, no element beyond 2 lr0 and
 * at most 0.1% beyond 1e-5 (Adam turns float32 noise in near-zero gradients
 * into moves of up to ~lr); bf16, at most 1% of elements differ and none by
 * more than 5e-4 (a rounding that lands one bf16 ulp away). Returns a
 * summary line.
 */
export async function checkParams(
  { file, name, c }: ReferenceCase,
  got: ReadonlyMap<string, Float32Array>,
): Promise<string> {
  const prefix = `${name}.after${c.steps}`;
  const d = new StateDistance();
  for (const [param, v] of got) {
    d.add(v, await floats(file, `${prefix}.${param}`), param);
  }
  assertStateBounds(d, { precision: c.precision, lr0: c.lr0, label: prefix });
  return `${prefix}: ${d}`;
}

/**
 * Case `name`'s losses over its steps within {@link STEPS_LOSS_TOL} and its
 * final parameters within {@link checkParams}' bounds; returns a log line.
 */
export async function checkSteps(
  ref: ReferenceCase,
  got: Trained,
): Promise<string> {
  const lossRel = relDiff(
    got.losses,
    await floats(ref.file, `${ref.name}.loss`),
  );
  assert.ok(lossRel < STEPS_LOSS_TOL, `loss rel ${lossRel}`);
  const line = await checkParams(ref, got.params);
  return `loss rel ${lossRel.toExponential(2)}; ${line}`;
}
