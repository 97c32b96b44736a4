/**
 * Host-side bfloat16 rounding of float32 values.
 *
 * horizon keeps bf16 state in float32 tensors whose values are always exactly
 * representable in bf16 (see design.md, "bf16 is emulated in float32"). These
 * helpers round on the host the way PyTorch converts float32 to bfloat16:
 * round to nearest, ties to even, at 8 significant bits; values at or beyond
 * the largest finite bf16 plus half an ulp become infinite, subnormals round
 * like any other bit pattern, -0 stays -0.
 *
 * NaN: every NaN becomes the canonical quiet NaN 0x7FC0, sign and payload
 * dropped, as c10's `detail::round_to_nearest_even` (c10/util/BFloat16.h)
 * does: the conversion behind the CPU `c10::BFloat16(float)` constructor.
 * PyTorch's vectorised CPU path writes 0xFFFF instead, so NaN bit patterns
 * are not part of the contract with PyTorch, only "NaN stays NaN". Within
 * horizon this is the one rule, also for the BF16 bytes written to
 * safetensors files (`io/safetensors/codecs.ts`).
 *
 * @module
 */

// One scratch word shared by the scalar helpers; JS is single-threaded, and
// no helper calls another while it holds a value here.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** bf16 bits of the canonical quiet NaN. */
export const BF16_NAN_BITS = 0x7fc0;

// Round-to-nearest-even of the high half: add 0x7FFF plus the lowest kept bit,
// then truncate. A carry out of the significand bumps the exponent, which is
// exactly right, up to and including overflow into the infinity pattern.
function roundBits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return BF16_NAN_BITS << 16;
  return ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;
}

/**
 * Rounds a number to the nearest bfloat16 value and returns it as a number.
 * The input is first taken as float32 (`Math.fround`), as a float32 tensor
 * would hold it; a float64 that is not a float32 value is thus rounded twice.
 *
 * @example
 * ```ts
 * import { roundToBf16 } from "./bf16.ts";
 * console.log(roundToBf16(1 + 2 ** -8)); // 1 (a tie, rounds to the even 1)
 * console.log(roundToBf16(1 + 3 * 2 ** -8)); // 1.015625 (tie, to even)
 * console.log(roundToBf16(0.1)); // 0.10009765625
 * ```
 */
export function roundToBf16(x: number): number {
  scratchF32[0] = x;
  scratchU32[0] = roundBits(scratchU32[0]);
  return scratchF32[0];
}

/**
 * The 16-bit bfloat16 encoding of `roundToBf16(x)`, as an integer in
 * [0, 0xFFFF] (NaN gives {@linkcode BF16_NAN_BITS}).
 *
 * @example
 * ```ts
 * import { bf16Bits } from "./bf16.ts";
 * console.log(bf16Bits(1).toString(16)); // "3f80"
 * console.log(bf16Bits(-0).toString(16)); // "8000"
 * ```
 */
export function bf16Bits(x: number): number {
  scratchF32[0] = x;
  return roundBits(scratchU32[0]) >>> 16;
}

/**
 * The number a 16-bit bfloat16 encoding stands for.
 *
 * @example
 * ```ts
 * import { bf16FromBits } from "./bf16.ts";
 * console.log(bf16FromBits(0x3f80), bf16FromBits(0xff80)); // 1 -Infinity
 * ```
 */
export function bf16FromBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffff) {
    throw new RangeError(`bf16 bits must be an integer 0..0xFFFF, got ${bits}`);
  }
  scratchU32[0] = bits << 16;
  return scratchF32[0];
}

/**
 * Whether `x` is exactly a bfloat16 value: a float32 whose low 16 bits are
 * zero. NaN counts as not exact, since a NaN in the state is a failure to
 * report rather than a value to accept.
 *
 * @example
 * ```ts
 * import { isBf16Exact } from "./bf16.ts";
 * console.log(isBf16Exact(1.5), isBf16Exact(0.1)); // true false
 * ```
 */
export function isBf16Exact(x: number): boolean {
  if (x !== x) return false;
  scratchF32[0] = x;
  return scratchF32[0] === x && (scratchU32[0] & 0xffff) === 0;
}

/**
 * Rounds every element of a Float32Array to bfloat16 in place and returns the
 * same array. Works on the bit patterns through a Uint32Array view, so it is
 * exact for all inputs and allocation-free.
 *
 * @example
 * ```ts
 * import { roundArrayToBf16 } from "./bf16.ts";
 * const a = roundArrayToBf16(new Float32Array([0.1, -3, 1e39]));
 * console.log(a); // Float32Array [0.10009765625, -3, Infinity]
 * ```
 */
export function roundArrayToBf16(f32: Float32Array): Float32Array {
  const u = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  for (let i = 0; i < u.length; i++) u[i] = roundBits(u[i]);
  return f32;
}
