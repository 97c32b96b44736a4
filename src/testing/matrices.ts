/**
 * Matrices with known black holes, shared by the tests of the in-memory
 * finders (analysis/) and of the census's streaming scan (census/scan.ts).
 *
 * @module
 */

import type { FloatDtype } from "../analysis/row_key/non_finite.ts";

/** Six 3-column float32 rows: 0, 2, 5 equal; 1, 4 equal; 3 alone. */
export function sixRows(): Float32Array {
  const A = [0.5, -1, 2];
  const B = [3, 3, 3];
  const D = [0.5, -1, 2.0001];
  return new Float32Array([...A, ...B, ...A, ...D, ...B, ...A]);
}

/** Element size and top-16-bit patterns of each format. */
export const FLOAT_FORMATS: Record<FloatDtype, {
  size: number;
  nan: number;
  inf: number;
  maxFinite: number;
}> = {
  BF16: { size: 2, nan: 0x7fc0, inf: 0x7f80, maxFinite: 0x7f7f },
  F16: { size: 2, nan: 0x7e00, inf: 0x7c00, maxFinite: 0x7bff },
  F32: { size: 4, nan: 0x7fc0, inf: 0x7f80, maxFinite: 0x7f7f },
  F64: { size: 8, nan: 0x7ff8, inf: 0x7ff0, maxFinite: 0x7fef },
};

/**
 * A matrix of `rows` rows of `rowBytes` bytes in format `dtype`, with
 * distinct finite rows except for planted ones; returns it and the expected
 * clusters and non-finite rows.
 */
export function plantedFloats(
  dtype: FloatDtype,
  rows: number,
  rowBytes: number,
) {
  const { size, nan, inf, maxFinite } = FLOAT_FORMATS[dtype];
  const bytes = new Uint8Array(rows * rowBytes);
  const view = new DataView(bytes.buffer);
  const elems = rowBytes / size;
  // Top 16 bits of element e of row r (little-endian: the last two bytes).
  const setTop = (r: number, e: number, top: number) =>
    view.setUint16(r * rowBytes + e * size + size - 2, top, true);
  for (let r = 0; r < rows; r++) {
    // Small finite values, distinct per row (row id in the low bytes of
    // element 0 for wide formats, in the mantissa for 16-bit ones).
    for (let e = 0; e < elems; e++) setTop(r, e, 0x3c00 + ((r * 7 + e) & 0xff));
    if (size > 2) view.setUint16(r * rowBytes, r, true);
    else setTop(r, 0, 0x3000 + (r & 0x3ff));
  }
  const copy = (from: number, to: number) =>
    bytes.copyWithin(to * rowBytes, from * rowBytes, (from + 1) * rowBytes);
  // Rows 1, 3, 8: identical NaN everywhere (a dead cluster of NaNs).
  for (let e = 0; e < elems; e++) setTop(1, e, nan);
  copy(1, 3);
  copy(1, 8);
  // Rows 2, 9: identical, +Inf in the last element only.
  setTop(2, elems - 1, inf);
  copy(2, 9);
  // Rows 4, 10: identical, negative NaN (sign set) in element 0 only.
  setTop(4, 0, 0x8000 | nan);
  copy(4, 10);
  // Rows 5, 11, 12: identical, -Inf in the middle element.
  setTop(5, elems >> 1, 0x8000 | inf);
  copy(5, 11);
  copy(5, 12);
  // Rows 6, 13: identical, the largest finite magnitude (a real cluster).
  setTop(6, elems - 1, 0x8000 | maxFinite);
  copy(6, 13);
  // Rows 0, rows - 1: identical finite rows (a real cluster).
  copy(0, rows - 1);
  return {
    bytes,
    clusters: [
      { population: 2, tokens: [0, rows - 1] },
      { population: 2, tokens: [6, 13] },
    ],
    nonFinite: [1, 2, 3, 4, 5, 8, 9, 10, 11, 12],
  };
}

/** One case of {@link plantedCases}. */
export interface PlantedCase extends ReturnType<typeof plantedFloats> {
  readonly dtype: FloatDtype;
  readonly rows: number;
  readonly rowBytes: number;
  /** The engines that can scan these rows (the SIMD kernel needs 64 B rows). */
  readonly engines: readonly ("wasm" | "js")[];
  /** Label for assertion messages. */
  readonly what: string;
}

/**
 * Planted matrices in every float format, at row sizes that run through the
 * SIMD kernel (64, 128 bytes) and through JS (24 bytes).
 */
export function* plantedCases(): Generator<PlantedCase> {
  for (const dtype of ["BF16", "F16", "F32", "F64"] as const) {
    for (const rowBytes of [64, 128, 24]) {
      const rows = 40;
      yield {
        ...plantedFloats(dtype, rows, rowBytes),
        dtype,
        rows,
        rowBytes,
        engines: rowBytes % 64 === 0 ? ["wasm", "js"] : ["js"],
        what: `${dtype}, ${rowBytes}-byte rows`,
      };
    }
  }
}
