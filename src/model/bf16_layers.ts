/**
 * The model's nonlinear layers as PyTorch runs them in a GPT-2 cast to bf16
 * under bf16 autocast (the seeds' `model.to(torch.bfloat16)` with
 * `bf16=True`): autocast runs `pow`, `layer_norm`, `rsqrt` and `softmax` in
 * float32, so these layers compute in float32 from bf16 inputs, but a few of
 * their own products are bf16 ops, and every gradient that reaches a bf16
 * tensor is a bf16 tensor. Each backward below follows the ops PyTorch's
 * autograd records for the forward, in the order its engine runs them, and
 * rounds where that graph holds a bf16 tensor.
 *
 * The rounding itself is injected ({@link Bf16Tensors}) so the model does not
 * depend on how a precision mode rounds.
 *
 * @module
 */

import type { Builder } from "../graph/builder.ts";
import type { Value } from "../graph/ir.ts";
import { rowMean } from "./layers.ts";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * How a precision mode holds bf16 tensors in float32 graph arithmetic.
 */
export interface Bf16Tensors {
  /** bf16(v), gradient passed straight through (a plain rounding). */
  round(v: Value): Value;
  /**
   * bf16(v) as a bf16 tensor: the value is rounded and so is every gradient
   * contribution to it and their sum (see `Builder.castCotangent`).
   */
  tensor(v: Value): Value;
  /** Holds only v's gradient in bf16 (v already holds bf16 values). */
  gradient(v: Value): Value;
  /** The bf16 value nearest to a host constant. */
  constant(x: number): number;
}

/**
 * gelu_new of a bf16 tensor u [N, 4d] under autocast, as HF writes it:
 * `0.5 * u * (1 + tanh(sqrt(2/pi) * (u + 0.044715 * pow(u, 3))))`.
 * `0.5 * u` is a bf16 op; `pow` runs on a float32 copy of u, and everything
 * after it is float32 by type promotion, so the result is float32.
 *
 * Backward (PyTorch's graph, nodes run latest first): the product's gradient
 * to `0.5 * u` is cast to bf16; through tanh and the scalar products to the
 * sum `u + ...`, whose gradient to u is cast to bf16 (c2); through the cube
 * to the float32 copy of u, cast to bf16 (c3); then `0.5 * u` gives c1
 * (its gradient rounded, then halved: the same as halving, then rounding). The
 * three are summed into u's bf16 gradient as c2, c3, c1 — listed in that
 * order so autodiff adds and rounds them the same way.
 */
export function geluNewBf16(b: Builder, u: Value, t: Bf16Tensors): Value {
  const u2 = b.mul(u, u); // pow(u, 3) is u * u * u in float32
  const cube = b.mul(u2, u);
  const sum = b.add(u, b.mul(b.scalar(GELU_A), cube));
  const th = b.tanh(b.mul(b.scalar(SQRT_2_OVER_PI), sum));
  const halfU = t.round(b.mul(b.scalar(0.5), u)); // a bf16 product
  const onePlusT = b.add(b.scalar(1), th);
  const y = b.mul(halfU, onePlusT); // float32 [N, 4d]
  return b.customGradient(y, [u, u, u], (dy) => {
    const dSum = b.mul(
      b.mul(b.mul(dy, halfU), b.sub(b.scalar(1), b.mul(th, th))),
      b.scalar(SQRT_2_OVER_PI),
    );
    const dCube = b.mul(
      b.mul(dSum, b.scalar(GELU_A)),
      b.mul(b.scalar(3), u2),
    );
    // torch rounds the gradient of `0.5 * u` to bf16 and halves it (bf16
    // again); halving commutes with rounding, so the cast of u's gradient
    // does both.
    const dHalf = b.mul(b.mul(dy, onePlusT), b.scalar(0.5));
    return [dSum, dCube, dHalf];
  });
}

/**
 * The seed 11.2a RMSNorm of a bf16 tensor x [N, d]: the float32 normalised
 * rows are cast back to bf16, then multiplied by the bf16 weight (a bf16
 * op), so the output is a bf16 tensor:
 * `weight * bf16(x * rsqrt(mean(x^2) + eps))`.
 *
 * Backward: the bf16 product gives `bf16(dy * xhat)` per element, summed over
 * rows for the weight, and `bf16(dy * weight)` for the normalised rows, which
 * then flows through the float32 normalisation
 * `rstd * (g - xhat * mean(g * xhat))` to x.
 */
export function rmsNormBf16(
  b: Builder,
  x: Value,
  weight: Value,
  eps: number,
  t: Bf16Tensors,
): Value {
  const meanSquare = rowMean(b, b.mul(x, x)); // [N, 1]
  const rstd = b.div(b.scalar(1), b.sqrt(b.add(meanSquare, b.scalar(eps))));
  const xhat = b.mul(x, rstd); // float32 [N, d]
  const xhatB = t.round(xhat);
  const y = t.round(b.mul(weight, xhatB));
  return b.customGradient(y, [x, weight], (dy) => {
    const g = t.round(b.mul(dy, weight));
    const meanGX = rowMean(b, b.mul(g, xhat));
    return [
      b.mul(b.sub(g, b.mul(xhat, meanGX)), rstd),
      b.reduceSum(t.round(b.mul(dy, xhatB)), [0], false),
    ];
  });
}
