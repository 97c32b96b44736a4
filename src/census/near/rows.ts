/**
 * Float rows of a stored matrix, decoded for the near-identical search and
 * the under-trained-token indicators: values as float64, and each value's
 * position on its dtype's ordered grid ("ordinal"), so that the distance
 * of two values in ulps is the difference of their ordinals.
 *
 * @module
 */

import {
  bf16BytesToFloat32,
  f16BytesToFloat32,
} from "../../io/safetensors/codecs.ts";

/**
 * The float dtypes: the safetensors dtypes the census compares, checks for
 * NaN/±Inf rows, and decodes for the near search and the indicators.
 */
export const NEAR_DTYPES = ["BF16", "F16", "F32", "F64"] as const;

/** One of {@linkcode NEAR_DTYPES}. */
type NearDtype = typeof NEAR_DTYPES[number];

/** Whether `dtype` is one of {@linkcode NEAR_DTYPES}. */
export function isNearDtype(dtype: string): dtype is NearDtype {
  return (NEAR_DTYPES as readonly string[]).includes(dtype);
}

/** A 2-D float matrix read by blocking row reads. */
export interface FloatRows {
  /** Number of rows. */
  rows: number;
  /** Values per row. */
  cols: number;
  /** Stored dtype. */
  dtype: NearDtype;
  /** Reads rows `[start, start + count)` into `into` and returns them. */
  readRowsSync(start: number, count: number, into: Uint8Array): Uint8Array;
}

/** Bytes per value of `dtype`. */
export function bytesPerValue(dtype: NearDtype): number {
  return dtype === "F64" ? 8 : dtype === "F32" ? 4 : 2;
}

/**
 * Decodes little-endian `bytes` of `dtype` into `out` (float64, exact).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeValues } from "./rows.ts";
 * const out = new Float64Array(2);
 * decodeValues(new Uint8Array([0x80, 0x3f, 0x00, 0xc0]), "BF16", out);
 * assert.deepEqual([...out], [1, -2]);
 * ```
 */
export function decodeValues(
  bytes: Uint8Array,
  dtype: NearDtype,
  out: Float64Array,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / bytesPerValue(dtype);
  if (dtype === "F32") {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === "F64") {
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
  } else {
    out.set(
      dtype === "BF16" ? bf16BytesToFloat32(bytes) : f16BytesToFloat32(bytes),
    );
  }
}

/**
 * Decodes `bytes` of `dtype` into ordinals: the sign-magnitude bit pattern
 * as a signed integer (`+0` and `-0` are both 0), so adjacent finite values
 * differ by 1 and `|a - b|` is their distance in ulps, across zero too.
 * Non-finite values come out beyond every finite ordinal; callers skip
 * rows holding them. F64 is refused: its ordinals exceed 2^53.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOrdinals } from "./rows.ts";
 * const out = new Float64Array(3);
 * // 1, the next bf16 above 1, and -0.
 * decodeOrdinals(new Uint8Array([0x80, 0x3f, 0x81, 0x3f, 0, 0x80]), "BF16", out);
 * assert.deepEqual([out[1] - out[0], out[2]], [1, 0]);
 * ```
 */
export function decodeOrdinals(
  bytes: Uint8Array,
  dtype: NearDtype,
  out: Float64Array,
): void {
  if (dtype === "F64") throw new RangeError("F64 has no ordinal here");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "F32") {
    const n = bytes.length / 4;
    for (let i = 0; i < n; i++) {
      const b = view.getUint32(4 * i, true);
      const mag = b & 0x7fffffff;
      out[i] = b >>> 31 ? 0 - mag : mag;
    }
    return;
  }
  const n = bytes.length / 2;
  for (let i = 0; i < n; i++) {
    const b = view.getUint16(2 * i, true);
    const mag = b & 0x7fff;
    out[i] = b & 0x8000 ? 0 - mag : mag;
  }
}

/**
 * Calls `fn` on successive blocks of rows decoded to float64 (the array is
 * reused between calls: copy what must outlive the call).
 */
export function forEachBlock(
  m: FloatRows,
  fn: (start: number, count: number, values: Float64Array) => void,
  options: { ordinals?: boolean; blockBytes?: number } = {},
): void {
  const rowBytes = m.cols * bytesPerValue(m.dtype);
  const blockRows = Math.max(
    1,
    Math.floor((options.blockBytes ?? 1 << 20) / Math.max(1, rowBytes)),
  );
  const bytes = new Uint8Array(Math.min(blockRows, m.rows) * rowBytes);
  const values = new Float64Array(Math.min(blockRows, m.rows) * m.cols);
  for (let start = 0; start < m.rows; start += blockRows) {
    const count = Math.min(blockRows, m.rows - start);
    const got = m.readRowsSync(
      start,
      count,
      bytes.subarray(0, count * rowBytes),
    );
    const out = values.subarray(0, count * m.cols);
    if (options.ordinals) decodeOrdinals(got, m.dtype, out);
    else decodeValues(got, m.dtype, out);
    fn(start, count, out);
  }
}
