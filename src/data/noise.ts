/**
 * The per-step synthetic noise of seed experiment 11.2b ("jiggling").
 *
 * After every optimizer step the seed notebook runs
 * `wte.add_(torch.randn_like(wte) * (EPSILON / 10))` on bfloat16 weights. With
 * bf16 weights every intermediate is a bf16 tensor, so one noise value is
 *
 *     bf16( f32( bf16(z) * f32(scale) ) )      z ~ N(0, 1)
 *
 * `randn_like` rounds its draw to bf16; the product of a bf16 tensor and a
 * Python float is computed in float32 with the scalar cast to float32, then
 * rounded back to bf16. That is PyTorch 2.x: the CPU kernel
 * `mul_cpu_reduced_float` takes `original_scalar_value<float>`, and the MPS
 * binary op (the seeds ran on MPS) promotes bf16 x double to a float32
 * multiply. PyTorch 1.x instead rounded the scalar to bf16 first (Debian's
 * torch 1.13 does), which for 3e-6 makes the scale 0.16% smaller; so that
 * torch is no reference for this function. The addition to the weights and its
 * rounding happen in the training graph, not here. In `fp32` mode the same
 * expression is evaluated in float32: `f32( f32(z) * f32(scale) )`.
 *
 * The scale the notebook really uses is EPSILON / 10 = 3e-6 (it prints
 * EPSILON = 3e-5); callers pass the scale itself.
 *
 * The normal draws are horizon's own (see {@linkcode NormalSource}), so the
 * noise has the seed's distribution and rounding, not its exact values.
 *
 * @module
 */

import { roundToBf16 } from "./bf16.ts";
import type { NormalSource } from "./rng.ts";

/** Storage precision the noise is produced in. */
export type NoisePrecision = "bf16" | "fp32";

/** Shape, scale and precision of one step's noise. */
export interface NoiseOptions {
  /** Number of rows (vocabulary size for the embedding matrix). */
  rows: number;
  /** Number of columns (embedding width). */
  cols: number;
  /** Standard deviation multiplier, e.g. 3e-6 for seed 11.2b. */
  scale: number;
  /** `"bf16"` to round like bf16 tensors, `"fp32"` for float32 tensors. */
  precision: NoisePrecision;
  /** Optional output buffer of length rows * cols to fill instead of allocating. */
  out?: Float32Array;
}

/**
 * One step's noise, `rows * cols` values in row-major order, drawing
 * `rows * cols` normals from `rng` in that order.
 *
 * @example Noise for a 128 x 64 embedding, seed 11.2b scale
 * ```ts
 * import { Pcg32, Stream } from "./rng.ts";
 * import { noiseForStep } from "./noise.ts";
 * const rng = new Pcg32(42, Stream.noise);
 * const noise = noiseForStep(rng, {
 *   rows: 128,
 *   cols: 64,
 *   scale: 3e-6,
 *   precision: "bf16",
 * });
 * console.log(noise.length); // 8192
 * ```
 */
export function noiseForStep(
  rng: NormalSource,
  opts: NoiseOptions,
): Float32Array {
  const { rows, cols, scale, precision } = opts;
  for (const [name, v] of [["rows", rows], ["cols", cols]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(
        `noise ${name} must be a non-negative integer, got ${v}`,
      );
    }
  }
  if (!Number.isFinite(scale)) {
    throw new RangeError(`noise scale must be finite, got ${scale}`);
  }
  if (precision !== "bf16" && precision !== "fp32") {
    throw new RangeError(
      `noise precision must be "bf16" or "fp32", got ${
        JSON.stringify(precision)
      }`,
    );
  }
  const n = rows * cols;
  const out = opts.out ?? new Float32Array(n);
  if (out.length !== n) {
    throw new RangeError(
      `noise out buffer has length ${out.length}, expected ${rows} * ${cols} = ${n}`,
    );
  }
  const s = Math.fround(scale);
  if (precision === "bf16") {
    for (let i = 0; i < n; i++) {
      out[i] = roundToBf16(Math.fround(roundToBf16(rng.normal()) * s));
    }
  } else {
    // Storing into a Float32Array performs the final float32 rounding.
    for (let i = 0; i < n; i++) out[i] = Math.fround(rng.normal()) * s;
  }
  return out;
}
