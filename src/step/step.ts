/**
 * Compiles ONE training step of the tiny GPT-2 into an ONNX graph: forward,
 * loss, backward (by autodiff), global-norm clipping, AdamW, bf16 rounding of
 * the stored state and the optional post-step noise.
 *
 * The state is three flat float32 vectors: `params` (every parameter, in
 * HF state-dict order, see {@link ParamSlot}), and the AdamW moments `m` and
 * `v` in the same layout. The optimizer then runs as a dozen ops over one
 * 116k-element vector instead of a dozen ops per parameter tensor, which is
 * what makes the step fast on engines with per-op overhead.
 *
 * Graph inputs: `params`, `m`, `v` [N], the batch (`input_ids`, `targets`
 * int32 [B,T], `loss_weights` [B,T]), the step scalars `lr_wd`, `step_size`,
 * `bc2_sqrt`, `noise` (shaped like the noised parameter) when noise is on,
 * and `dropout` (the step's masks, flat, see model/dropout.ts) when dropout is.
 * With stochastic rounding, `rounding` [N] holds the step's uniforms.
 * Outputs: `loss`, `grad_norm`, and the next state `new.params`, `new.m`,
 * `new.v` (fed back as the next inputs).
 *
 * @example
 * ```ts
 * import { compileStep, seedStepConfig } from "./step.ts";
 * const step = compileStep(seedStepConfig({ batchSize: 2, seqLen: 16 }));
 * console.log(step.params.length, step.totalSize); // 28 116480
 * ```
 *
 * @module
 */

import { Builder } from "../graph/builder.ts";
import { gradients } from "../graph/autodiff.ts";
import { sizeOf, type Value } from "../graph/ir.ts";
import { toOnnx } from "../graph/onnx.ts";
import {
  type ModelConfig,
  parameterSpecs,
  type ParamSpec,
  SEED_MODEL,
} from "../model/config.ts";
import { crossEntropy, forward } from "../model/gpt2.ts";
import { type AdamWConfig, adamwUpdate, HF_ADAMW } from "./adamw.ts";
import { autocastMatmul } from "./autocast.ts";
import {
  bf16Tensors,
  canonicalZero,
  roundToBf16InGraph,
} from "./bf16_graph.ts";
import type { Bf16Tensors } from "../model/bf16_layers.ts";
import { dropoutLayout, dropoutMasks, dropoutSize } from "../model/dropout.ts";
import {
  type Rounding,
  stochasticRoundToBf16InGraph,
} from "./stochastic_rounding.ts";

/**
 * Arithmetic of the step. `bf16`: every stored value (parameters, AdamW
 * moments) is a bf16 value, rounded to nearest-even once per update;
 * activations and gradients are float32. `bf16-pure`: the same state, and the
 * model runs as PyTorch runs a GPT-2 cast to bf16 under bf16 autocast, every
 * bf16 tensor of the forward and backward pass rounded where its op rounds it
 * (see `ForwardOptions.bf16`), gradient clipping included. `fp32`: no
 * rounding.
 */
export type Precision = "bf16" | "bf16-pure" | "fp32";

/** Whether parameters and AdamW moments are stored as bf16 values. */
export function storesBf16(precision: Precision): boolean {
  return precision !== "fp32";
}

/** Which parameters receive weight decay. */
export type DecayPolicy =
  /**
   * HF Trainer: no decay on biases and on weights of `nn.LayerNorm` modules.
   * A custom RMSNorm module (seed 11.2a) is not an `nn.LayerNorm`, and its
   * names (`ln_1`, `ln_2`, `ln_f`) match none of the Trainer's name patterns,
   * so its weights ARE decayed.
   */
  | "hf-trainer"
  /** No decay on biases or on any norm weight. */
  | "matrices-only";

/** Everything that shapes the step graph. */
export interface StepConfig {
  /** Model architecture. */
  readonly model: ModelConfig;
  /** Number of windows per batch (B). */
  readonly batchSize: number;
  /** Tokens per window (T). */
  readonly seqLen: number;
  /** Arithmetic of the parameters and activations: `bf16` or `fp32`. */
  readonly precision: Precision;
  /** AdamW hyper-parameters. */
  readonly adamw: AdamWConfig;
  /** Global gradient-norm clipping threshold (HF: 1.0); null disables. */
  readonly clipNorm: number | null;
  /** Which parameters receive weight decay. */
  readonly decay: DecayPolicy;
  /** Parameter that receives the per-step `noise` input, if any. */
  readonly noiseParam: string | null;
  /**
   * Emulate torch bf16 autocast in the matrix products and keep parameter
   * gradients as bf16 values (see autocast.ts). Needs precision `bf16`.
   */
  readonly autocast?: boolean;
  /**
   * `stochastic`: parameters are rounded to bf16 stochastically by the
   * per-step `rounding` input (see stochastic_rounding.ts); the moments stay
   * round-to-nearest-even. Omitted: nearest-even everywhere. Needs a
   * precision that stores bf16.
   */
  readonly rounding?: Rounding;
}

/** The seeds' step (B=32, T=128, bf16, HF defaults), with overrides. */
export function seedStepConfig(
  overrides: Partial<StepConfig> = {},
): StepConfig {
  return {
    model: SEED_MODEL,
    batchSize: 32,
    seqLen: 128,
    precision: "bf16",
    adamw: HF_ADAMW,
    clipNorm: 1.0,
    decay: "hf-trainer",
    noiseParam: null,
    ...overrides,
  };
}

/** Whether `spec` is weight-decayed under `policy`. */
export function isDecayed(
  spec: ParamSpec,
  model: ModelConfig,
  policy: DecayPolicy,
): boolean {
  switch (spec.role) {
    case "bias":
    case "norm-bias":
      return false;
    case "norm-weight":
      return policy === "hf-trainer" && model.norm === "rmsnorm";
    default:
      return true;
  }
}

/** Declared input or output of a compiled graph. */
export interface TensorSpec {
  /** Input or output name in the ONNX graph. */
  readonly name: string;
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: "float32" | "int32";
}

/** Where one parameter lives in the flat state vectors. */
export interface ParamSlot extends ParamSpec {
  /** First element in `params` / `m` / `v`. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
}

/** Lays parameters out back to back in state-dict order. */
export function paramLayout(model: ModelConfig): ParamSlot[] {
  let offset = 0;
  return parameterSpecs(model).map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const slot = { ...spec, offset, size };
    offset += size;
    return slot;
  });
}

/** A compiled step graph and its interface. */
export interface CompiledStep {
  /** The config the graph was compiled from. */
  readonly config: StepConfig;
  /**
   * `train`: a full AdamW step; `gradients`: logits and raw gradients only (for
   * reference tests).
   */
  readonly kind: "train" | "gradients";
  /** The serialised ONNX model. */
  readonly onnx: Uint8Array;
  /** Every parameter's place in the flat state vectors. */
  readonly params: readonly ParamSlot[];
  /** Length of the flat state vectors. */
  readonly totalSize: number;
  /** The graph's declared inputs. */
  readonly inputs: readonly TensorSpec[];
  /** The graph's declared outputs. */
  readonly outputs: readonly TensorSpec[];
  /** Number of IR nodes (forward + backward + update). */
  readonly nodeCount: number;
}

function validate(c: StepConfig): void {
  for (const k of ["batchSize", "seqLen"] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) {
      throw new RangeError(`${k} must be a positive integer, got ${c[k]}`);
    }
  }
  if (c.seqLen > c.model.context) {
    throw new RangeError(
      `seqLen ${c.seqLen} exceeds the model context ${c.model.context}`,
    );
  }
  if (!["bf16", "bf16-pure", "fp32"].includes(c.precision)) {
    throw new RangeError(`precision must be "bf16", "bf16-pure" or "fp32"`);
  }
  if (c.autocast && c.precision !== "bf16") {
    throw new RangeError("autocast needs precision bf16");
  }
  if (c.clipNorm !== null && !(c.clipNorm > 0)) {
    throw new RangeError("clipNorm must be > 0 or null");
  }
  if (
    c.rounding !== undefined &&
    (c.rounding !== "stochastic" || !storesBf16(c.precision))
  ) {
    throw new RangeError(`rounding must be "stochastic" with bf16 storage`);
  }
  if (c.model.dropout && (c.autocast || c.precision === "bf16-pure")) {
    throw new RangeError("dropout needs precision bf16 or fp32, no autocast");
  }
}

/**
 * Sum of squares of a long vector in two levels (rows of about sqrt(n), then
 * the row sums): a single float32 running sum over 116k terms drifts by
 * ~1e-6 relative, enough to move the clip coefficient and flip bf16 roundings
 * against the reference.
 */
function sumOfSquares(b: Builder, x: Value): Value {
  const n = x.shape[0];
  let k = Math.floor(Math.sqrt(n));
  while (n % k !== 0) k--;
  const squares = b.reshape(b.mul(x, x), [n / k, k]);
  return b.reduceSum(b.reduceSum(squares, [1], false), [0], false);
}

/**
 * torch.nn.utils.clip_grad_norm_ on bf16 gradients: each parameter's norm is
 * a bf16 tensor (float32 accumulation, rounded), the total norm over them
 * too; `max_norm / (total + 1e-6)` is computed by torch as
 * `reciprocal(total + 1e-6) * max_norm`, each op rounding.
 */
function bf16GradNorm(
  b: Builder,
  t: Bf16Tensors,
  grads: readonly Value[],
): Value {
  const norms = grads.map((g) =>
    t.round(b.sqrt(sumOfSquares(b, b.reshape(g, [sizeOf(g.shape)]))))
  );
  return t.round(b.sqrt(sumOfSquares(
    b,
    b.concat(
      norms.map((n) => b.reshape(n, [1])),
      0,
    ),
  )));
}

function buildCommon(b: Builder, c: StepConfig) {
  const B = c.batchSize, T = c.seqLen;
  const params = paramLayout(c.model);
  const totalSize = params.reduce((n, s) => n + s.size, 0);
  const flat = b.input("params", [totalSize]);
  const pure = c.precision === "bf16-pure" ? bf16Tensors(b) : undefined;
  const p: Record<string, Value> = {};
  for (const slot of params) {
    const view = b.reshape(
      b.slice(flat, 0, slot.offset, slot.offset + slot.size),
      slot.shape,
    );
    // Parameters are bf16 tensors: so are their gradients.
    p[slot.name] = pure ? pure.gradient(view) : view;
  }
  const ids = b.input("input_ids", [B, T], "int32");
  const targets = b.input("targets", [B, T], "int32");
  const weights = b.input("loss_weights", [B, T]);
  // Dropout masks of the step, one flat input (none when dropout is off).
  const layout = dropoutLayout(c.model, B, T);
  const dropout = layout.length
    ? dropoutMasks(
      b,
      b.input("dropout", [dropoutSize(layout)]),
      layout,
      c.model.nLayer,
    )
    : undefined;
  const logits = forward(
    b,
    c.model,
    p,
    ids,
    { batch: B, seqLen: T },
    c.autocast
      ? { matmul: (x, w, o) => autocastMatmul(b, x, w, o) }
      : pure
      ? { bf16: pure }
      : dropout
      ? { dropout }
      : {},
  );
  const loss = crossEntropy(
    b,
    logits,
    b.reshape(targets, [B * T]),
    b.reshape(weights, [B * T]),
  );
  // Differentiate with respect to the per-parameter views (not the flat
  // input) so the backward pass needs no scatter back into the flat vector:
  // one Concat joins the gradients.
  const grads = gradients(b, loss, params.map((s) => p[s.name]));
  const joined = b.concat(
    grads.map((g, i) => b.reshape(g, [params[i].size])),
    0,
  );
  // Under autocast the parameters' gradients are bf16 tensors, as in a model
  // cast to bf16.
  const flatGrad = c.autocast ? roundToBf16InGraph(b, joined) : joined;
  const gradNorm = pure
    ? bf16GradNorm(b, pure, grads)
    : b.sqrt(sumOfSquares(b, flatGrad));
  return {
    params,
    totalSize,
    flat,
    logits,
    loss,
    grads,
    flatGrad,
    gradNorm,
    pure,
  };
}

/** bf16(x) of each of equally long vectors, by one rounding of them joined. */
function roundTogether(b: Builder, xs: readonly Value[]): Value[] {
  const n = xs[0].shape[0];
  const rounded = roundToBf16InGraph(b, b.concat(xs, 0));
  return xs.map((_, i) => b.slice(rounded, 0, i * n, (i + 1) * n));
}

function specsOf(
  values: readonly { name: string; value: Value }[],
): TensorSpec[] {
  return values.map(({ name, value }) => ({
    name,
    shape: value.shape,
    dtype: value.dtype === "int32" ? "int32" : "float32",
  }));
}

/** The step's IR graph before serialisation (see {@link buildStep}). */
export interface StepGraph {
  /** The builder holding the step's nodes, inputs and outputs. */
  readonly builder: Builder;
  /** Every parameter's place in the flat state vectors. */
  readonly params: readonly ParamSlot[];
  /** Length of the flat state vectors. */
  readonly totalSize: number;
}

/**
 * Compiles the training step. `kind: "gradients"` instead outputs logits and
 * the raw (unclipped) gradients `grad.<name>` for reference tests.
 */
export function compileStep(
  c: StepConfig,
  kind: "train" | "gradients" = "train",
): CompiledStep {
  const { builder: b, params, totalSize } = buildStep(c, kind);
  const inputs = specsOf(
    b.inputs.map((v) => ({
      name: (v.source as { name: string }).name,
      value: v,
    })),
  );
  return {
    config: c,
    kind,
    onnx: toOnnx(b, {
      name: `horizon_step_${kind}`,
      doc: JSON.stringify({ kind, ...c }),
    }),
    params,
    totalSize,
    inputs,
    outputs: specsOf(b.outputs.map((o) => ({ name: o.name, value: o.value }))),
    nodeCount: b.nodes.length,
  };
}

/** The step's IR graph (what {@link compileStep} serialises). */
export function buildStep(
  c: StepConfig,
  kind: "train" | "gradients" = "train",
): StepGraph {
  validate(c);
  const b = new Builder();
  const {
    params,
    totalSize,
    flat,
    logits,
    loss,
    grads,
    flatGrad,
    gradNorm,
    pure,
  } = buildCommon(b, c);
  b.output("loss", loss);
  b.output("grad_norm", gradNorm);

  if (kind === "gradients") {
    b.output("logits", logits);
    params.forEach((s, i) => b.output(`grad.${s.name}`, grads[i]));
  } else {
    const scalars = {
      lrWd: b.input("lr_wd", []),
      stepSize: b.input("step_size", []),
      bc2Sqrt: b.input("bc2_sqrt", []),
    };
    // clip_coef = min(1, max_norm / (norm + 1e-6)), applied unconditionally
    // as torch.nn.utils.clip_grad_norm_ does.
    // max_norm / (norm + 1e-6), clamped to 1; on bf16 gradients torch
    // computes it as reciprocal(norm + 1e-6) * max_norm, each op rounding.
    const clipCoef = (clipNorm: number) =>
      b.min(
        b.scalar(1),
        pure
          ? pure.round(b.mul(
            pure.round(b.div(
              b.scalar(1),
              pure.round(b.add(gradNorm, b.scalar(1e-6))),
            )),
            b.scalar(clipNorm),
          ))
          : b.div(b.scalar(clipNorm), b.add(gradNorm, b.scalar(1e-6))),
      );
    const clipped = c.clipNorm === null
      ? flatGrad
      : b.mul(flatGrad, clipCoef(c.clipNorm));
    // torch scales bf16 gradients in place: the product is bf16 again.
    const g = c.autocast || pure ? roundToBf16InGraph(b, clipped) : clipped;
    const decayMask = new Uint8Array(totalSize);
    for (const slot of params) {
      if (isDecayed(slot, c.model, c.decay)) {
        decayMask.fill(1, slot.offset, slot.offset + slot.size);
      }
    }
    // Stored state never holds -0 (see bf16_graph.ts), in either precision.
    const round = (v: Value) =>
      c.precision === "fp32" ? canonicalZero(b, v) : roundToBf16InGraph(b, v);
    const next = adamwUpdate(b, c.adamw, scalars, {
      p: flat,
      m: b.input("m", [totalSize]),
      v: b.input("v", [totalSize]),
      g,
      decayMask: b.constant(decayMask, [totalSize], "bool"),
    });
    // The three vectors are rounded as one: the same values, a third of the
    // kernels (the slices lower to one Split).
    const [roundedP, roundedM, roundedV] = c.precision === "fp32"
      ? [next.p, next.m, next.v].map(round)
      : c.rounding === "stochastic"
      ? [
        stochasticRoundToBf16InGraph(
          b,
          next.p,
          b.input("rounding", [totalSize]),
        ),
        ...roundTogether(b, [next.m, next.v]),
      ]
      : roundTogether(b, [next.p, next.m, next.v]);
    let newP = roundedP;
    if (c.noiseParam) {
      const slot = params.find((s) => s.name === c.noiseParam);
      if (!slot) {
        throw new RangeError(`noise parameter ${c.noiseParam} does not exist`);
      }
      // The noise enters only the noised parameter's range; elsewhere the
      // state keeps its exact bits (adding 0 would turn -0 into +0).
      const noise = b.input("noise", slot.shape);
      const padded = b.pad(
        b.reshape(noise, [slot.size]),
        0,
        slot.offset,
        totalSize - slot.offset - slot.size,
      );
      const inRange = new Uint8Array(totalSize).fill(
        1,
        slot.offset,
        slot.offset + slot.size,
      );
      newP = b.where(
        b.constant(inRange, [totalSize], "bool"),
        round(b.add(newP, padded)),
        newP,
      );
    }
    b.output("new.params", newP);
    b.output("new.m", roundedM);
    b.output("new.v", roundedV);
  }
  return { builder: b, params, totalSize };
}
