/**
 * Round-to-nearest-even to bfloat16, expressed in float32 graph arithmetic.
 *
 * WebGPU has no bf16 type and Cast(float -> bfloat16) exists only on the node
 * CPU provider, so horizon rounds with a Veltkamp split: for g = x * (2^16 + 1),
 * g - (g - x) keeps exactly the top 8 significant bits of x, rounded to
 * nearest-even, and keeps -0. That identity needs |x| < ~5.19e33 (x * 65537
 * must not overflow) and normal x; subnormals instead round by adding and
 * subtracting 1.5 * 2^-110, whose float32 ulp is bf16's subnormal spacing
 * 2^-133.
 *
 * Zeros come out as +0, on every backend (onnxruntime's CPU and wasm `Where`
 * turn -0 into +0 while WebGPU's keeps it, so no -0 may reach the `Where`):
 * zeros are tiny and take the subnormal path, whose `(x + s) - s` is never
 * -0, and the Veltkamp split of a normal x is never zero. Bit-exact comparisons of stored rows then agree with value
 * comparisons (`torch.unique`, which treats -0 and +0 as equal).
 *
 * @module
 */

import type { Builder } from "../graph/builder.ts";
import type { Value } from "../graph/ir.ts";
import type { Bf16Tensors } from "../model/bf16_layers.ts";
import { roundToBf16 } from "../data/bf16.ts";

const SPLITTER = 65537; // 2^16 + 1
const SUBNORMAL_SHIFTER = 1.5 * 2 ** -110;
const SMALLEST_NORMAL = 2 ** -126;

/** Graph values equal to bf16(x) held in float32 (zeros as +0). */
export function roundToBf16InGraph(b: Builder, x: Value): Value {
  const normal = roundNormalToBf16InGraph(b, x);
  const shifter = b.scalar(SUBNORMAL_SHIFTER);
  const subnormal = b.sub(b.add(x, shifter), shifter);
  const tiny = b.less(b.abs(x), b.scalar(SMALLEST_NORMAL));
  return b.where(tiny, subnormal, normal);
}

/** x with -0 replaced by +0 (x + 0 changes no other value, NaN included). */
export function canonicalZero(b: Builder, x: Value): Value {
  return b.add(x, b.scalar(0));
}

/**
 * bf16(x) for normal x below ~5.19e33 in magnitude: the Veltkamp split alone,
 * three ops instead of {@link roundToBf16InGraph}'s eight. Subnormal x (below
 * 1.18e-38) come out close to x but not on bf16's subnormal grid, -0 stays
 * -0, and an overflowing product gives NaN. That is exact for activations
 * and gradients, whose values never come near either end except in a
 * diverging run (which stops on the first non-finite loss or norm); stored
 * state, which the analysis compares bit for bit, keeps the full rounding.
 */
export function roundNormalToBf16InGraph(b: Builder, x: Value): Value {
  const g = b.mul(x, b.scalar(SPLITTER));
  return b.sub(g, b.sub(g, x));
}

/**
 * bf16 tensors for a model run in bf16 arithmetic (see
 * `src/model/bf16_layers.ts`): rounding by
 * {@link roundNormalToBf16InGraph}, with its gradient passed straight through
 * (the rounding ops themselves are never differentiated), and cotangents of
 * bf16 tensors rounded the same way.
 */
export function bf16Tensors(b: Builder): Bf16Tensors {
  // Values known to hold bf16 values. Rounding commutes with zero padding,
  // and rounds a bf16 value to itself, so a sum of padded slice gradients
  // (joined into one padded Concat by joinPaddedSum, graph/join_padded.ts) is rounded piece by
  // piece, once, instead of over the whole tensor at every sum.
  const rounded = new WeakSet<Value>();
  const cast = (g: Value): Value => {
    if (rounded.has(g)) return g;
    const padded = b.padded(g);
    let r: Value;
    if (padded && padded.pieces.every((p) => rounded.has(p.value))) {
      r = g;
    } else if (padded?.pieces.length === 1) {
      const { start, value } = padded.pieces[0];
      const after = g.shape[padded.axis] - start - value.shape[padded.axis];
      r = b.pad(cast(value), padded.axis, start, after);
    } else r = roundNormalToBf16InGraph(b, g);
    rounded.add(r);
    return r;
  };
  const round = (v: Value) =>
    b.customGradient(roundNormalToBf16InGraph(b, v), [v], (dy) => [dy]);
  return {
    round,
    tensor: (v) => b.castCotangent(round(v), cast),
    gradient: (v) => b.castCotangent(v, cast),
    constant: (x) => roundToBf16(x),
  };
}
