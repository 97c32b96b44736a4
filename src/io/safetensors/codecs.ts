/**
 * Element codecs for the 16-bit float dtypes of safetensors files:
 * float32 to little-endian `BF16` bytes (rounded by `data/bf16.ts`, the one
 * bfloat16 rounding rule of the project), and `BF16` / `F16` bytes back to
 * float32 (exact).
 *
 * @module
 */

import { roundArrayToBf16 } from "../../data/bf16.ts";

/**
 * Encodes float32 values as little-endian bfloat16 bytes, rounded as
 * `roundArrayToBf16` rounds them: values that are already bf16 (low 16 bits
 * zero) are exact, others go to nearest, ties to even, like
 * `torch.Tensor.to(torch.bfloat16)` (so a large finite value may round to
 * infinity); every NaN becomes the canonical quiet NaN `0x7FC0`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float32ToBf16Bytes } from "./codecs.ts";
 * assert.deepEqual(
 *   float32ToBf16Bytes(new Float32Array([1, -2, NaN])),
 *   new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0xc0, 0x7f]),
 * );
 * ```
 */
export function float32ToBf16Bytes(f32: Float32Array): Uint8Array {
  // Rounded in a copy: the caller's values stay as they are.
  const rounded = new Uint32Array(
    roundArrayToBf16(new Float32Array(f32)).buffer,
  );
  const out = new Uint8Array(f32.length * 2);
  for (let i = 0; i < rounded.length; i++) {
    const h = rounded[i] >>> 16;
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/**
 * Decodes little-endian bfloat16 bytes to float32 (exact).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bf16BytesToFloat32 } from "./codecs.ts";
 * assert.deepEqual(bf16BytesToFloat32(new Uint8Array([0x80, 0x3f])), new Float32Array([1]));
 * ```
 */
export function bf16BytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.length % 2 !== 0) {
    throw new RangeError(`bf16 data has an odd byte length (${bytes.length})`);
  }
  const out = new Float32Array(bytes.length / 2);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < out.length; i++) {
    bits[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
  }
  return out;
}

/**
 * Decodes little-endian IEEE half-precision bytes to float32 (exact).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { f16BytesToFloat32 } from "./codecs.ts";
 * assert.deepEqual(f16BytesToFloat32(new Uint8Array([0x00, 0x3c])), new Float32Array([1]));
 * ```
 */
export function f16BytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.length % 2 !== 0) {
    throw new RangeError(`f16 data has an odd byte length (${bytes.length})`);
  }
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) {
    const h = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac === 0 ? sign * Infinity : NaN;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}
