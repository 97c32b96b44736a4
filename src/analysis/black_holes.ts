/**
 * Counting "black holes": groups of embedding rows that are bit-identical.
 *
 * This is the one implementation of the C/P statistics, used by the training
 * experiments (small float32 or bf16 matrices in memory, here) and by the
 * census of real checkpoints (hundreds of MB, streamed from disk in row
 * blocks: `census/scan.ts`). Both run the same key table (`scanner.ts`).
 *
 * Rows are compared in their stored encoding, byte for byte, never decoded to
 * numbers: every row is hashed (`row_key/`), rows with equal hashes are
 * candidates, and candidates are confirmed by comparing their bytes
 * (`partition.ts`), so a hash collision can cost time but never change a
 * count.
 *
 * Definitions (as in the seed notebooks): `C` is the number of distinct row
 * vectors held by at least two rows; `P` is the number of rows in those
 * clusters (see `types.ts`).
 *
 * Non-finite rows: when the element format is known (`dtype`; always for
 * {@linkcode findBlackHolesFloat32} and the census), a row holding any NaN or
 * ±Inf is left out of the clustering (a diverged model's rows of one NaN
 * pattern are not a black hole) and listed in the report's `nonFinite`
 * (`row_key/non_finite.ts`).
 *
 * Speed: rows whose length is a multiple of 64 bytes (every real embedding)
 * are hashed by a small WebAssembly SIMD kernel (`row_key/kernel.wat`),
 * several times faster than the scalar JavaScript fallback; both compute the
 * same keys, which the tests check.
 *
 * @module
 */

import { BlackHoleError } from "./black_hole_error.ts";
import { BlackHoleScanner } from "./scanner.ts";
import type { BlackHoleOptions, BlackHoleReport, RowMatrix } from "./types.ts";

function gather(matrix: RowMatrix, group: number[]): Uint8Array {
  const rb = matrix.rowBytes;
  const out = new Uint8Array(group.length * rb);
  group.forEach((r, i) =>
    out.set(matrix.bytes.subarray(r * rb, (r + 1) * rb), i * rb)
  );
  return out;
}

function checkMatrix(matrix: RowMatrix): void {
  const { bytes, rows, rowBytes } = matrix;
  if (!(bytes instanceof Uint8Array)) {
    throw new BlackHoleError("matrix.bytes must be a Uint8Array");
  }
  if (
    !Number.isSafeInteger(rows) || rows < 0 ||
    !Number.isSafeInteger(rowBytes) ||
    rowBytes < 0 || bytes.length !== rows * rowBytes
  ) {
    throw new BlackHoleError(
      `matrix of ${rows} rows x ${rowBytes} bytes needs ${
        rows * rowBytes
      } bytes, got ${bytes.length}`,
    );
  }
}

/**
 * Finds the black holes of a matrix held in memory, comparing rows bit for
 * bit in their stored bytes (any dtype).
 *
 * @example Rows 0, 2, 5 equal and rows 1, 4 equal
 * ```ts
 * import assert from "node:assert/strict";
 * import { findBlackHoles } from "./black_holes.ts";
 * const bytes = new Uint8Array([7, 7, 1, 2, 7, 7, 3, 4, 1, 2, 7, 7]);
 * const r = findBlackHoles({ bytes, rows: 6, rowBytes: 2 });
 * assert.equal(r.C, 2);
 * assert.equal(r.P, 5);
 * assert.deepEqual(r.clusters, [
 *   { population: 3, tokens: [0, 2, 5] },
 *   { population: 2, tokens: [1, 4] },
 * ]);
 * ```
 */
export function findBlackHoles(
  matrix: RowMatrix,
  options: BlackHoleOptions = {},
): BlackHoleReport {
  checkMatrix(matrix);
  const scanner = new BlackHoleScanner(matrix.rows, matrix.rowBytes, options);
  scanner.add(matrix.bytes);
  return scanner.resolve(scanner.candidates(), (g) => gather(matrix, g));
}

/** Options of {@linkcode findBlackHolesFloat32} (the dtype is always F32). */
export interface Float32BlackHoleOptions
  extends Omit<BlackHoleOptions, "dtype"> {
  /**
   * `"bits"` (default): rows are equal only if every float32 bit pattern is
   * equal, so +0 and -0 differ. `"value-zero"`: like `torch.unique`, +0 and
   * -0 count as equal. Rows holding NaN or ±Inf are never clustered in
   * either mode.
   */
  compare?: "bits" | "value-zero";
}

/**
 * Black holes of a float32 embedding `[rows, cols]`, comparing float32 bit
 * patterns. Bit-exact by default: `-0` and `+0` are different bit patterns
 * and so different vectors (`torch.unique` would merge them; pass
 * `compare: "value-zero"` for that). Rows holding a NaN or ±Inf are in no
 * cluster; they are listed in the report's `nonFinite`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findBlackHolesFloat32 } from "./black_holes.ts";
 * const e = new Float32Array([1, 2, 0, 0, 1, 2, -0, 0]);
 * assert.equal(findBlackHolesFloat32(e, 4, 2).P, 2); // rows 0 and 2
 * assert.equal(findBlackHolesFloat32(e, 4, 2, { compare: "value-zero" }).P, 4);
 * const nan = findBlackHolesFloat32(new Float32Array([NaN, 1, NaN, 1]), 2, 2);
 * assert.deepEqual(nan.nonFinite, [0, 1]);
 * assert.equal(nan.P, 0);
 * ```
 */
export function findBlackHolesFloat32(
  embedding: Float32Array,
  rows: number,
  cols: number,
  options: Float32BlackHoleOptions = {},
): BlackHoleReport {
  if (embedding.length !== rows * cols) {
    throw new BlackHoleError(
      `embedding has ${embedding.length} values, expected ${rows} x ${cols}`,
    );
  }
  let source = embedding;
  if (options.compare === "value-zero") {
    source = embedding.slice();
    for (let i = 0; i < source.length; i++) if (source[i] === 0) source[i] = 0;
  } else if (options.compare !== undefined && options.compare !== "bits") {
    throw new BlackHoleError(
      `unknown compare mode ${JSON.stringify(options.compare)}`,
    );
  }
  return findBlackHoles({
    bytes: new Uint8Array(source.buffer, source.byteOffset, source.byteLength),
    rows,
    rowBytes: cols * 4,
  }, { ...options, dtype: "F32" });
}
