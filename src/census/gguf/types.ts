/**
 * ggml's tensor types as stored in GGUF files: the block layout of every
 * type (so that the reader can check where each tensor ends), and the types
 * the census compares.
 *
 * A ggml row of `n` elements is stored as `n / blockSize` blocks of
 * `blockBytes` bytes each (a float type is a block of one element). Sizes
 * follow ggml's `type_traits` and the `static_assert`s on the block structs
 * in `ggml-common.h`.
 *
 * @module
 */

/** Block layout of a ggml type. */
export interface GgmlType {
  /** ggml's enum value, as stored in a GGUF tensor info. */
  id: number;
  /** Name as ggml spells it in upper case (`Q4_K`, `BF16`). */
  name: string;
  /** Elements per block. */
  blockSize: number;
  /** Bytes per block. */
  blockBytes: number;
}

// [id, name, elements per block, bytes per block]. Ids 4, 5 and 31-33,
// 36-38 were removed from ggml and never appear in a valid file.
const TABLE: ReadonlyArray<readonly [number, string, number, number]> = [
  [0, "F32", 1, 4],
  [1, "F16", 1, 2],
  [2, "Q4_0", 32, 18], // f16 scale + 32 nibbles
  [3, "Q4_1", 32, 20],
  [6, "Q5_0", 32, 22],
  [7, "Q5_1", 32, 24],
  [8, "Q8_0", 32, 34], // f16 scale + 32 int8
  [9, "Q8_1", 32, 36],
  [10, "Q2_K", 256, 84],
  [11, "Q3_K", 256, 110],
  [12, "Q4_K", 256, 144], // f16 d, f16 dmin, 12 scale bytes, 128 nibble bytes
  [13, "Q5_K", 256, 176],
  [14, "Q6_K", 256, 210], // 128 low-bit, 64 high-bit, 16 scale bytes, f16 d
  [15, "Q8_K", 256, 292],
  [16, "IQ2_XXS", 256, 66],
  [17, "IQ2_XS", 256, 74],
  [18, "IQ3_XXS", 256, 98],
  [19, "IQ1_S", 256, 50],
  [20, "IQ4_NL", 32, 18],
  [21, "IQ3_S", 256, 110],
  [22, "IQ2_S", 256, 82],
  [23, "IQ4_XS", 256, 136],
  [24, "I8", 1, 1],
  [25, "I16", 1, 2],
  [26, "I32", 1, 4],
  [27, "I64", 1, 8],
  [28, "F64", 1, 8],
  [29, "IQ1_M", 256, 56],
  [30, "BF16", 1, 2],
  [34, "TQ1_0", 256, 54],
  [35, "TQ2_0", 256, 66],
  [39, "MXFP4", 32, 17],
  [40, "NVFP4", 64, 36],
  [41, "Q1_0", 128, 18],
  [42, "Q2_0", 64, 18],
];

const BY_ID: ReadonlyMap<number, GgmlType> = new Map(
  TABLE.map(([id, name, blockSize, blockBytes]) => [
    id,
    Object.freeze({ id, name, blockSize, blockBytes }),
  ]),
);

const BY_NAME: ReadonlyMap<string, GgmlType> = new Map(
  [...BY_ID.values()].map((t) => [t.name, t]),
);

/**
 * The ggml type with enum value `id`, or `undefined` for an id ggml does
 * not define (or has removed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ggmlType } from "./types.ts";
 * assert.deepEqual(ggmlType(12), {
 *   id: 12, name: "Q4_K", blockSize: 256, blockBytes: 144,
 * });
 * assert.equal(ggmlType(4), undefined); // Q4_2, removed
 * ```
 */
export function ggmlType(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

/**
 * The ggml type named `name` (`Q4_K`), or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ggmlTypeByName } from "./types.ts";
 * assert.equal(ggmlTypeByName("Q8_0")?.id, 8);
 * ```
 */
export function ggmlTypeByName(name: string): GgmlType | undefined {
  return BY_NAME.get(name);
}

/**
 * Types whose rows the census compares. Floats are compared like
 * safetensors rows (and their NaN/±Inf rows set apart); a quantized row is
 * compared as its blocks' bytes: two rows with the same bytes dequantize to
 * the same vector, so the model cannot tell them apart.
 */
export const GGUF_CENSUS_TYPES: readonly string[] = [
  "F32",
  "F16",
  "BF16",
  "F64",
  "Q8_0",
  "Q4_0",
  "Q4_K",
  "Q6_K",
];

/** How the rows of one GGUF tensor are stored (part of the census report). */
export interface GgufStorage {
  /** ggml type name. */
  type: string;
  /** Elements per block (1 for float types). */
  blockSize: number;
  /** Bytes per block. */
  blockBytes: number;
  /** Blocks per row. */
  blocksPerRow: number;
  /** Whether each row is a whole number of blocks (ggml requires it). */
  wholeBlocks: boolean;
}

/**
 * The storage facts of a row of `cols` elements of `type`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ggmlType, storageOf } from "./types.ts";
 * const s = storageOf(ggmlType(8)!, 64); // Q8_0, two blocks per row
 * assert.deepEqual(s, {
 *   type: "Q8_0", blockSize: 32, blockBytes: 34, blocksPerRow: 2,
 *   wholeBlocks: true,
 * });
 * ```
 */
export function storageOf(type: GgmlType, cols: number): GgufStorage {
  return {
    type: type.name,
    blockSize: type.blockSize,
    blockBytes: type.blockBytes,
    blocksPerRow: Math.floor(cols / type.blockSize),
    wholeBlocks: cols % type.blockSize === 0,
  };
}

/**
 * One sentence on how a tensor's rows are stored and compared, for the
 * report's notes.
 *
 * @example
 * ```ts
 * import { ggmlType, storageNote, storageOf } from "./types.ts";
 * storageNote("token_embd.weight", storageOf(ggmlType(2)!, 64));
 * // "token_embd.weight: Q4_0, blocks of 32 elements in 18 bytes, 2 whole
 * // blocks per row (36 bytes); rows are compared as their stored bytes"
 * ```
 */
export function storageNote(tensor: string, s: GgufStorage): string {
  const rowBytes = s.blocksPerRow * s.blockBytes;
  const layout = s.blockSize === 1
    ? `${s.blockBytes}-byte elements, ${s.blocksPerRow} per row`
    : `blocks of ${s.blockSize} elements in ${s.blockBytes} bytes, ${s.blocksPerRow} ${
      s.wholeBlocks ? "whole " : ""
    }blocks per row`;
  return `${tensor}: ${s.type}, ${layout} (${rowBytes} bytes); rows are compared as their stored bytes`;
}
