/**
 * The element types of the safetensors format and the byte sizes of shapes.
 *
 * @module
 */

/** Element types of the safetensors format and their size in bytes. */
export const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

/** A safetensors element type name, e.g. `"BF16"`. */
export type Dtype = keyof typeof DTYPE_SIZES;

/**
 * Whether `name` is a dtype this module knows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDtype } from "./dtype.ts";
 * assert.equal(isDtype("BF16"), true);
 * assert.equal(isDtype("bf16"), false); // names are upper case in the format
 * ```
 */
export function isDtype(name: string): name is Dtype {
  return Object.hasOwn(DTYPE_SIZES, name);
}

/**
 * Element count of a shape; throws a plain RangeError past 2^53.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeSize } from "./dtype.ts";
 * assert.equal(shapeSize([3, 4]), 12);
 * assert.equal(shapeSize([]), 1); // a scalar
 * ```
 */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) {
      throw new RangeError(`shape [${shape.join(", ")}] is too large`);
    }
  }
  return n;
}

/** Whether `v` is a safe integer >= 0 (a shape dimension, an offset). */
export function isNonNegativeInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Bytes per row (first dimension) of a tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowBytesOf } from "./dtype.ts";
 * assert.equal(rowBytesOf({ dtype: "BF16", shape: [10, 64] }), 128);
 * ```
 */
export function rowBytesOf(
  info: { dtype: Dtype; shape: readonly number[] },
): number {
  return shapeSize(info.shape.slice(1)) * DTYPE_SIZES[info.dtype];
}
