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
 * Zeros come out as +0. onnxruntime's CPU and wasm `Where` turn -0 into +0
 * while WebGPU's keeps it, so the result is canonicalised (x + 0) to make the
 * stored state identical on every backend. Bit-exact comparisons of stored
 * rows then agree with value comparisons (`torch.unique`, which treats -0 and
 * +0 as equal).
 *
 * @module
 */

import type { Builder } from "../graph/builder.ts";
import type { Value } from "../graph/ir.ts";

const SPLITTER = 65537; // 2^16 + 1
const SUBNORMAL_SHIFTER = 1.5 * 2 ** -110;
const SMALLEST_NORMAL = 2 ** -126;

/** Graph values equal to bf16(x) held in float32 (zeros as +0). */
export function roundToBf16InGraph(b: Builder, x: Value): Value {
  const g = b.mul(x, b.scalar(SPLITTER));
  const normal = b.sub(g, b.sub(g, x));
  const shifter = b.scalar(SUBNORMAL_SHIFTER);
  const subnormal = b.sub(b.add(x, shifter), shifter);
  const tiny = b.less(b.abs(x), b.scalar(SMALLEST_NORMAL));
  return canonicalZero(b, b.where(tiny, subnormal, normal));
}

/** x with -0 replaced by +0 (x + 0 changes no other value, NaN included). */
export function canonicalZero(b: Builder, x: Value): Value {
  return b.add(x, b.scalar(0));
}
