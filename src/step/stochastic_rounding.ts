/**
 * Stochastic rounding to bfloat16, in float32 graph arithmetic, driven by
 * uniforms the host draws (issue 20, hypothesis 11.3a).
 *
 * A float32 value x lies between two neighbouring bf16 values: `below`, the
 * one toward zero, and `below + spacing`, the one away from zero. x becomes
 * the one away from zero with probability (|x| - |below|) / spacing, else the
 * one toward zero; a value already on the bf16 grid stays exactly itself.
 * That is the rule of the usual bit-level implementation (torchao's
 * `_fp32_to_bf16_sr`: add 16 random bits below the bf16 significand and
 * truncate), and with the same 16 random bits r per element it picks the
 * same neighbour: away from zero iff r < the low 16 bits of x's float32
 * pattern. Here r enters as the float32 uniform u = r / 65536, and the graph
 * asks `u * spacing < |x| - below`, which is that comparison scaled by the
 * power of two `spacing / 65536` (exact on both sides).
 *
 * No opset onnxruntime-web runs has a bitcast, so `below` and `spacing` are
 * computed arithmetically:
 * - spacing: bf16 has 8 significant bits, so the grid spacing of a normal
 *   |x| is ufp(|x|) * 2^-7, ufp being the unit in the first place (the power
 *   of two 2^floor(log2 |x|)). ufp comes from an error-free trick in the
 *   style of Rump's: see {@link ufpInGraph}.
 *   Below the smallest normal float32 the spacing is the constant 2^-133
 *   (bf16's subnormal spacing), as it is for [2^-126, 2^-125).
 * - below: the nearest bf16 value n of |x| (bf16_graph.ts); when n > |x| it
 *   is the neighbour above, and the one below is n - spacing (also when n is
 *   the next power of two: spacing is that of |x|'s binade).
 *
 * Every step is exact in float32: n - spacing and below + spacing are bf16
 * values; |x| - below is below one spacing and a multiple of |x|'s float32
 * ulp; u * spacing has 16 significant bits. The sign is put back last and -0
 * becomes +0, as everywhere in the stored state. Limits: |x| below 2^104
 * (about 2e31, where q overflows; the nearest-even rounding already stops at
 * 5.19e33), and on an engine that flushes float32 subnormals the values
 * below 2^-126 round as if every u were 0 there. Parameters of a run that
 * has not diverged are nowhere near either end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Builder } from "../graph/builder.ts";
 * import { toOnnx } from "../graph/onnx.ts";
 * import { cpuEngine } from "../runtime/cpu.ts";
 * import { stochasticRoundToBf16InGraph } from "./stochastic_rounding.ts";
 * const b = new Builder();
 * const x = b.input("x", [3]), u = b.input("u", [3]);
 * b.output("y", stochasticRoundToBf16InGraph(b, x, u));
 * const s = await cpuEngine.load(toOnnx(b, { name: "sr" }));
 * // 1 + 2^-9 is a quarter of the way from 1 to 1 + 2^-7: up iff u < 0.25.
 * const xs = new Float32Array([1 + 2 ** -9, 1 + 2 ** -9, 0.5]);
 * const us = new Float32Array([0.2, 0.3, 0.9]);
 * const out = await s.run({ x: s.tensor(xs, [3]), u: s.tensor(us, [3]) });
 * assert.deepEqual([...await s.read(out.y)], [1 + 2 ** -7, 1, 0.5]);
 * await s.release();
 * ```
 *
 * @module
 */

import type { Builder } from "../graph/builder.ts";
import type { Value } from "../graph/ir.ts";
import type { Pcg32 } from "../data/rng.ts";
import { roundToBf16InGraph } from "./bf16_graph.ts";

/** How stored parameters are rounded to bf16 (omitted: nearest-even). */
export type Rounding = "stochastic";

/** The rounding modes a config may name. */
export const ROUNDING_MODES: readonly Rounding[] = ["stochastic"];

/** Random bits per rounded element: bf16 drops 16 bits of a float32. */
export const ROUNDING_BITS = 16;

const SPLITTER = 2 ** 23 + 1;
const ONE_MINUS_2_24 = 1 - 2 ** -24;
const SMALLEST_NORMAL = 2 ** -126;
const SUBNORMAL_SPACING = 2 ** -133;

/**
 * ufp(a) for a >= 0 normal and below 2^104 (0 for a = 0). For a in
 * [2^k, 2^(k+1)), q = fl(a * (2^23 + 1)) lies in (2^(k+23), 2^(k+24)], where
 * one ulp is 2^k; q * (1 - 2^-24) is q less q * 2^-24, which is more than
 * half of that ulp and less than all of it, so it rounds to q - 2^k; when q
 * is the power of two 2^(k+24) the subtrahend is 2^k itself and q - 2^k is
 * exact. Either way q minus it is 2^k, exactly (Sterbenz). Checked on every binade in the
 * tests; above 2^104 q overflows.
 */
function ufpInGraph(b: Builder, a: Value): Value {
  const q = b.mul(a, b.scalar(SPLITTER));
  return b.sub(q, b.mul(q, b.scalar(ONE_MINUS_2_24)));
}

/**
 * bf16(x) rounded stochastically by the uniforms `u` (same shape as x, each
 * a multiple of 2^-16 in [0, 1), as {@link roundingUniforms} draws them).
 */
export function stochasticRoundToBf16InGraph(
  b: Builder,
  x: Value,
  u: Value,
): Value {
  const a = b.abs(x);
  const spacing = b.where(
    b.less(a, b.scalar(SMALLEST_NORMAL)),
    b.scalar(SUBNORMAL_SPACING),
    b.mul(ufpInGraph(b, a), b.scalar(2 ** -7)),
  );
  const nearest = roundToBf16InGraph(b, a);
  const below = b.where(
    b.less(a, nearest),
    b.sub(nearest, spacing),
    nearest,
  );
  const away = b.less(b.mul(u, spacing), b.sub(a, below));
  const magnitude = b.where(away, b.add(below, spacing), below);
  // A multiply, not a Where over -magnitude: no -0 reaches a Where (see
  // bf16_graph.ts), and the final + 0 turns the product's -0 into +0.
  const sign = b.where(b.less(x, b.scalar(0)), b.scalar(-1), b.scalar(1));
  return b.add(b.mul(magnitude, sign), b.scalar(0));
}

/**
 * Fills `out` with the next uniforms of `rng`, one 32-bit draw each: its top
 * 16 bits r as r / 65536 (exact in float32).
 */
export function roundingUniforms(rng: Pcg32, out: Float32Array): Float32Array {
  // The draws land in the output's own bytes, then become the uniforms.
  const draws = rng.fillUint32(
    new Uint32Array(out.buffer, out.byteOffset, out.length),
  );
  for (let i = 0; i < out.length; i++) {
    out[i] = (draws[i] >>> (32 - ROUNDING_BITS)) * 2 ** -ROUNDING_BITS;
  }
  return out;
}
