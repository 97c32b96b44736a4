/**
 * The GPT-2 forward pass written on the graph builder (HF GPT2LMHeadModel
 * semantics: pre-LN blocks, gelu_new, causal attention scaled by
 * 1/sqrt(head_dim), final norm, tied head), and the byte-level cross-entropy.
 *
 * Activations are flattened to [B*T, d] wherever a linear layer acts, so each
 * linear is one 2-D matmul (and its gradients two 2-D Gemms).
 *
 * @module
 */

import type { Builder, MatMulOptions } from "../graph/builder.ts";
import type { Value } from "../graph/ir.ts";
import type { ModelConfig } from "./config.ts";
import { geluNew, layerNorm, rmsNorm } from "./layers.ts";
import { type Bf16Tensors, geluNewBf16, rmsNormBf16 } from "./bf16_layers.ts";
import { applyDropout, type DropoutMasks } from "./dropout.ts";

/** Parameter values by HF name. */
export type ParamValues = Readonly<Record<string, Value>>;

/**
 * A matrix product as the model performs it: `b.matmul` by default; a
 * precision mode may substitute one that rounds operands and results (see
 * src/step/autocast.ts).
 */
export type MatMulFn = (a: Value, w: Value, opts?: MatMulOptions) => Value;

/** Options of {@link forward}. */
export interface ForwardOptions {
  /** Replaces every matrix product of the model (default: `b.matmul`). */
  readonly matmul?: MatMulFn;
  /**
   * Run as PyTorch runs the model cast to bf16 under bf16 autocast: every
   * tensor PyTorch holds in bf16 (and its gradient) is rounded where its op
   * rounds it; norms, softmax and gelu_new's cube compute in float32. Each
   * linear is one fused product (attention's q, k and v one [N, 3d] matmul),
   * since a gradient is rounded once per op.
   */
  readonly bf16?: Bf16Tensors;
  /**
   * Dropout masks (see dropout.ts), multiplied in where HF GPT-2 applies
   * dropout; only with the default float32 arithmetic and matmul.
   */
  readonly dropout?: DropoutMasks;
}

/** Shapes of one forward pass. */
export interface ForwardShape {
  readonly batch: number;
  /** Sequence length T (<= context). */
  readonly seqLen: number;
}

// float32 lowest finite value: HF fills masked attention scores with it.
const MASKED = -3.4028234663852886e38;
// bfloat16's lowest finite value, HF's mask value for bf16 scores.
const MASKED_BF16 = -3.3895313892515355e38;

function param(p: ParamValues, name: string): Value {
  const v = p[name];
  if (!v) throw new Error(`missing parameter ${name}`);
  return v;
}

/**
 * y = x @ W + b for x [N, in], W [in, out] (HF Conv1D). In bf16 arithmetic
 * autocast casts x to bf16 and `addmm` rounds once.
 */
function linear(
  b: Builder,
  p: ParamValues,
  prefix: string,
  x: Value,
  mm: MatMulFn,
  t?: Bf16Tensors,
): Value {
  const y = b.add(
    mm(t ? t.tensor(x) : x, param(p, `${prefix}.weight`)),
    param(p, `${prefix}.bias`),
  );
  return t ? t.tensor(y) : y;
}

/** The configured norm over the last axis of x [N, d]. */
function norm(
  b: Builder,
  cfg: ModelConfig,
  p: ParamValues,
  prefix: string,
  x: Value,
  t?: Bf16Tensors,
): Value {
  const weight = param(p, `${prefix}.weight`);
  if (cfg.norm === "rmsnorm") {
    return t
      ? rmsNormBf16(b, x, weight, cfg.normEps, t)
      : rmsNorm(b, x, weight, cfg.normEps);
  }
  // Autocast runs layer_norm in float32 on float32 copies of x, w and b.
  return layerNorm(b, x, weight, param(p, `${prefix}.bias`), cfg.normEps);
}

/**
 * Causal self-attention. Heads are computed one by one from column slices of
 * the fused `c_attn` projection, so no [B,T,H,hd] <-> [B,H,T,hd] transposes
 * are needed: each head's q, k, v are [N, hd] column blocks reshaped to
 * [B, T, hd], and the heads' outputs are concatenated back to [N, d]. The
 * arithmetic per element is the same dot product as HF's fused projection.
 */
function attention(
  b: Builder,
  cfg: ModelConfig,
  p: ParamValues,
  prefix: string,
  x: Value, // [N, d]
  shape: ForwardShape,
  mm: MatMulFn,
  fused: boolean,
  drop?: DropoutMasks["layers"][number],
): Value {
  const { batch: B, seqLen: T } = shape;
  const d = cfg.dModel, H = cfg.nHead, hd = d / H;
  const weight = param(p, `${prefix}.c_attn.weight`); // [d, 3d]
  const bias = param(p, `${prefix}.c_attn.bias`); // [3d]
  const causal = b.constant(causalMask(T, MASKED), [T, T]);
  if (fused) {
    // All heads at once, as a batch of B*H: every matrix, softmax row and
    // row sum is the one a head alone would compute, in half the kernels.
    const qkv = projectQkv(b, x, weight, bias, H); // [N, 3d]
    // Flattened before the split: onnxruntime would otherwise push the
    // Transpose through the Split, one transpose per part.
    const parts = b.reshape(
      b.transpose(b.reshape(qkv, [B, T, 3, H, hd]), [2, 0, 3, 1, 4]),
      [3, B * H * T * hd],
    ); // [3, B, H, T, hd]
    const part = (i: number) =>
      b.reshape(b.slice(parts, 0, i, i + 1), [B * H, T, hd]);
    const q = part(0), k = part(1), v = part(2);
    const scores = b.div(
      b.matmul(q, k, { transB: true }),
      b.scalar(Math.sqrt(hd)),
    ); // [B*H, T, T]
    const probs = applyDropout(b, b.softmax(b.add(scores, causal)), drop?.attn);
    const heads = b.matmul(probs, v);
    const merged = b.reshape(
      b.transpose(b.reshape(heads, [B, H, T, hd]), [0, 2, 1, 3]),
      [B * T, d],
    );
    return applyDropout(
      b,
      linear(b, p, `${prefix}.c_proj`, merged, mm),
      drop?.attnResid,
    );
  }
  // part 0, 1, 2 = q, k, v; columns [part*d + h*hd, part*d + (h+1)*hd)
  const project = (part: number, h: number) => {
    const lo = part * d + h * hd;
    const y = b.add(
      mm(x, b.slice(weight, 1, lo, lo + hd)),
      b.slice(bias, 0, lo, lo + hd),
    ); // [N, hd]
    return b.reshape(y, [B, T, hd]);
  };
  const heads: Value[] = [];
  for (let h = 0; h < H; h++) {
    const q = project(0, h), k = project(1, h), v = project(2, h);
    const scores = b.div(
      mm(q, k, { transB: true }),
      b.scalar(Math.sqrt(hd)),
    ); // [B, T, T]
    heads.push(mm(b.softmax(b.add(scores, causal)), v)); // [B, T, hd]
  }
  const merged = b.reshape(b.concat(heads, 2), [B * T, d]);
  return linear(b, p, `${prefix}.c_proj`, merged, mm);
}

/**
 * x @ W + b [N, 3d] as one product, with the gradient of per-head products:
 * column by column the forward and the weight and bias gradients are the
 * same dot products as one product per head, but x's gradient stays the sum
 * of the heads' products (each over hd columns), added in the order autodiff
 * adds them: one product over all 3d columns would round differently.
 */
function projectQkv(
  b: Builder,
  x: Value,
  weight: Value,
  bias: Value,
  nHead: number,
): Value {
  const hd = weight.shape[1] / 3 / nHead;
  const qkv = b.add(b.matmul(x, weight), bias);
  return b.customGradient(qkv, [x, weight, bias], (dy) => {
    let dx: Value | null = null;
    // Autodiff would visit the per-head products q, k, v of head 0, 1, ...
    // in reverse.
    for (let h = nHead - 1; h >= 0; h--) {
      for (let part = 2; part >= 0; part--) {
        const lo = (part * nHead + h) * hd;
        const c = b.matmul(
          b.slice(dy, 1, lo, lo + hd),
          b.slice(weight, 1, lo, lo + hd),
          { transB: true },
        );
        dx = dx ? b.add(dx, c) : c;
      }
    }
    return [
      dx,
      b.matmul(x, dy, { transA: true }),
      b.unbroadcast(dy, bias.shape),
    ];
  });
}

function causalMask(T: number, masked: number): Float32Array {
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    for (let j = i + 1; j < T; j++) mask[i * T + j] = masked;
  }
  return mask;
}

/**
 * Causal self-attention in bf16 arithmetic, op for op as HF's eager
 * attention runs under autocast: one `addmm` for q, k, v [N, 3d] (heads are
 * column slices of it, which is exact); scores `q @ k^T` rounded, divided by
 * a bf16 sqrt(head_dim) (HF builds the divisor in the scores' dtype:
 * 5.65625 for 32) and rounded; masked with bf16's lowest value (adding it
 * needs no rounding: the sum is that value); softmax in float32, cast back to
 * bf16; `probs @ v` rounded.
 */
function attentionBf16(
  b: Builder,
  cfg: ModelConfig,
  p: ParamValues,
  prefix: string,
  x: Value, // [N, d], float32 norm output
  shape: ForwardShape,
  mm: MatMulFn,
  t: Bf16Tensors,
): Value {
  const { batch: B, seqLen: T } = shape;
  const d = cfg.dModel, H = cfg.nHead, hd = d / H;
  const qkv = linear(b, p, `${prefix}.c_attn`, x, mm, t); // [N, 3d]
  const part = (k: number, h: number) => {
    const lo = k * d + h * hd;
    return b.reshape(b.slice(qkv, 1, lo, lo + hd), [B, T, hd]);
  };
  const causal = b.constant(causalMask(T, MASKED_BF16), [T, T]);
  const divisor = b.scalar(t.constant(Math.sqrt(hd)));
  const heads: Value[] = [];
  for (let h = 0; h < H; h++) {
    const q = part(0, h), k = part(1, h), v = part(2, h);
    const scores = t.tensor(
      b.div(t.tensor(mm(q, k, { transB: true })), divisor),
    ); // [B, T, T]
    const probs = t.tensor(b.softmax(t.gradient(b.add(scores, causal))));
    heads.push(t.tensor(mm(probs, v))); // [B, T, hd]
  }
  const merged = b.reshape(b.concat(heads, 2), [B * T, d]);
  return linear(b, p, `${prefix}.c_proj`, merged, mm, t);
}

/**
 * Logits [B*T, vocab] for int32 token ids [B, T].
 */
export function forward(
  b: Builder,
  cfg: ModelConfig,
  p: ParamValues,
  inputIds: Value,
  shape: ForwardShape,
  options: ForwardOptions = {},
): Value {
  const mm: MatMulFn = options.matmul ?? ((a, w, o) => b.matmul(a, w, o));
  const t = options.bf16;
  const drop = options.dropout;
  if (t && options.matmul) {
    throw new RangeError(
      "bf16 arithmetic and a custom matmul exclude each other",
    );
  }
  if (drop && (t || options.matmul)) {
    throw new RangeError(
      "dropout runs only in float32 arithmetic with the default matmul",
    );
  }
  const { batch: B, seqLen: T } = shape;
  if (T > cfg.context) {
    throw new RangeError(`sequence length ${T} exceeds context ${cfg.context}`);
  }
  const d = cfg.dModel;
  const wte = param(p, "transformer.wte.weight");
  const tokens = b.gather(wte, inputIds); // [B, T, d]
  // Positions 0..T-1 are the first T rows: a slice (none when T is the
  // context) instead of a gather, whose gradient is a one-hot product.
  const wpe = param(p, "transformer.wpe.weight");
  let pos = T === cfg.context ? wpe : b.slice(wpe, 0, 0, T); // [T, d]
  // The batch-summed gradient of the bf16 position rows is rounded.
  if (t) pos = t.gradient(pos);
  const embedded = b.add(tokens, pos);
  let x = applyDropout(
    b,
    b.reshape(t ? t.tensor(embedded) : embedded, [B * T, d]),
    drop?.embd,
  ); // [N, d]
  // A residual sum of two bf16 tensors is a bf16 tensor.
  const residual = (a: Value, r: Value) =>
    t ? t.tensor(b.add(a, r)) : b.add(a, r);
  for (let i = 0; i < cfg.nLayer; i++) {
    const h = `transformer.h.${i}`;
    const normed = norm(b, cfg, p, `${h}.ln_1`, x, t);
    x = residual(
      x,
      t
        ? attentionBf16(b, cfg, p, `${h}.attn`, normed, shape, mm, t)
        : attention(
          b,
          cfg,
          p,
          `${h}.attn`,
          normed,
          shape,
          mm,
          !options.matmul,
          drop?.layers[i],
        ),
    );
    const a = norm(b, cfg, p, `${h}.ln_2`, x, t);
    const pre = linear(b, p, `${h}.mlp.c_fc`, a, mm, t); // [N, 4d]
    const hidden = t ? geluNewBf16(b, pre, t) : geluNew(b, pre);
    const out = linear(b, p, `${h}.mlp.c_proj`, hidden, mm, t);
    x = residual(x, applyDropout(b, out, drop?.layers[i]?.mlp));
  }
  x = norm(b, cfg, p, "transformer.ln_f", x, t);
  const head = cfg.tiedHead ? wte : param(p, "lm_head.weight");
  if (t) return t.tensor(mm(t.tensor(x), head, { transB: true })); // [N, V]
  return mm(x, head, { transB: true }); // [N, V]
}

/**
 * Weighted cross-entropy: -sum_i w_i log softmax(logits_i)[target_i].
 * The objective (which targets, which weights) is decided on the host, so one
 * graph serves next-token and HF's double-shifted loss alike.
 *
 * Written for few kernels, with the numbers of the plain composition
 * (log-probabilities times a one-hot, summed, weighted, summed, negated):
 * a one-hot row sum has one non-zero term, so it is exactly the shifted logit
 * at the target; and negating before the products and sums (float rounding
 * is symmetric) gives exactly the negated total.
 */
export function crossEntropy(
  b: Builder,
  logits: Value, // [N, V]
  targets: Value, // int32 [N]
  weights: Value, // [N]
): Value {
  const [n, vocab] = logits.shape;
  const max = b.reduceMax(logits, [1], true); // [N,1], detached
  const shifted = b.sub(logits, max);
  const exps = b.exp(shifted);
  const sums = b.reduceSum(exps, [1], true); // [N,1]
  const isTarget = b.equal(
    b.reshape(targets, [n, 1]),
    b.constant(
      Int32Array.from({ length: vocab }, (_, i) => i),
      [1, vocab],
      "int32",
    ),
  ); // [N, V]
  const zero = b.scalar(0);
  // -log p(target) = log(sum) - shifted[target]
  const nll = b.add(
    b.matmul(
      b.where(isTarget, shifted, zero),
      b.constant(new Float32Array(vocab).fill(-1), [vocab, 1]),
    ),
    b.log(sums),
  ); // [N, 1]
  const loss = b.reduceSum(b.mul(b.reshape(nll, [n]), weights), [0], false);
  // The gradient autodiff derives for the plain composition, in its order:
  // dlogits = w * (-onehot) + (w / sum) * exps, for a unit dy.
  return b.customGradient(loss, [logits], (dy) => {
    const unit = dy.source.kind === "const" && dy.source.data[0] === 1;
    const dNll = b.reshape(unit ? weights : b.mul(dy, weights), [n, 1]);
    return [
      b.sub(
        b.mul(b.div(dNll, sums), exps),
        b.where(isTarget, dNll, zero),
      ),
    ];
  });
}
