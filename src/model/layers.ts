/**
 * The model's composite layers, each written as primitive ops with a
 * closed-form gradient right beside its forward (registered as a custom
 * gradient). Differentiating LayerNorm or gelu_new op by op costs roughly
 * twice the memory passes of the closed forms below; both are checked
 * against finite differences in `layers_test.ts`.
 *
 * @module
 */

import type { Builder } from "../graph/builder.ts";
import type { Value } from "../graph/ir.ts";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

const meanColumns = new WeakMap<Builder, Map<number, Value>>();

/**
 * Mean over the last axis of x [N, d], kept as [N, 1]. For d a power of two
 * it is one product with a column of 1/d: scaling every term by 2^-k is exact
 * and commutes with each rounding of the running sum, so the result equals
 * the sum-then-scale of `Builder.mean` bit for bit (barring partial sums
 * below float32's normal range) in one kernel instead of two.
 */
export function rowMean(b: Builder, x: Value): Value {
  const d = x.shape[1];
  if (x.shape.length !== 2 || !Number.isInteger(Math.log2(d))) {
    return b.mean(x, [x.shape.length - 1], true);
  }
  let columns = meanColumns.get(b);
  if (!columns) meanColumns.set(b, columns = new Map());
  let column = columns.get(d);
  if (!column) {
    column = b.constant(new Float32Array(d).fill(1 / d), [d, 1]);
    columns.set(d, column);
  }
  return b.matmul(x, column);
}

/**
 * gelu_new(u) = 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))), in HF's
 * operation order.
 *
 * Gradient: with t = tanh(inner),
 *   d/du = 0.5 (1 + t) + 0.5 u (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 u^2),
 * reusing t, u^2, 0.5u and 1 + t from the forward pass.
 */
export function geluNew(b: Builder, u: Value): Value {
  const u2 = b.mul(u, u);
  const inner = b.mul(
    b.scalar(SQRT_2_OVER_PI),
    b.add(u, b.mul(b.scalar(GELU_A), b.mul(u2, u))),
  );
  const t = b.tanh(inner);
  const halfU = b.mul(b.scalar(0.5), u);
  const onePlusT = b.add(b.scalar(1), t);
  const y = b.mul(halfU, onePlusT);
  return b.customGradient(y, [u], (dy) => {
    const sech2 = b.sub(b.scalar(1), b.mul(t, t));
    const dInner = b.add(
      b.scalar(SQRT_2_OVER_PI),
      b.mul(b.scalar(3 * GELU_A * SQRT_2_OVER_PI), u2),
    );
    const slope = b.add(
      b.mul(b.scalar(0.5), onePlusT),
      b.mul(b.mul(halfU, sech2), dInner),
    );
    return [b.mul(dy, slope)];
  });
}

/**
 * LayerNorm over the last axis of x [N, d] (biased variance, like
 * torch.nn.functional.layer_norm): y = (x - mean) * rstd * w + b.
 *
 * Gradient: with xhat = (x - mean) * rstd and g = dy * w,
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
 *   dw = sum_rows(dy * xhat),  db = sum_rows(dy).
 */
export function layerNorm(
  b: Builder,
  x: Value,
  weight: Value,
  bias: Value,
  eps: number,
): Value {
  const centered = b.sub(x, rowMean(b, x)); // [N, d]
  const variance = rowMean(b, b.mul(centered, centered)); // [N, 1]
  const rstd = b.div(b.scalar(1), b.sqrt(b.add(variance, b.scalar(eps))));
  const xhat = b.mul(centered, rstd);
  const y = b.add(b.mul(xhat, weight), bias);
  return b.customGradient(y, [x, weight, bias], (dy) => {
    const g = b.mul(dy, weight);
    const meanG = rowMean(b, g);
    const meanGX = rowMean(b, b.mul(g, xhat));
    const dx = b.mul(b.sub(b.sub(g, meanG), b.mul(xhat, meanGX)), rstd);
    return [
      dx,
      b.reduceSum(b.mul(dy, xhat), [0], false),
      b.reduceSum(dy, [0], false),
    ];
  });
}

/**
 * RMSNorm over the last axis of x [N, d], weight only (as in seed 11.2a):
 * y = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps).
 *
 * Gradient: with xhat = x * rstd and g = dy * w,
 *   dx = rstd * (g - xhat * mean(g * xhat)),  dw = sum_rows(dy * xhat).
 */
export function rmsNorm(
  b: Builder,
  x: Value,
  weight: Value,
  eps: number,
): Value {
  const meanSquare = rowMean(b, b.mul(x, x)); // [N, 1]
  const rstd = b.div(b.scalar(1), b.sqrt(b.add(meanSquare, b.scalar(eps))));
  const xhat = b.mul(x, rstd);
  const y = b.mul(xhat, weight);
  return b.customGradient(y, [x, weight], (dy) => {
    const g = b.mul(dy, weight);
    const meanGX = rowMean(b, b.mul(g, xhat));
    return [
      b.mul(b.sub(g, b.mul(xhat, meanGX)), rstd),
      b.reduceSum(b.mul(dy, xhat), [0], false),
    ];
  });
}
