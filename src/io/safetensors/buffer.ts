/**
 * Safetensors bytes already in memory (a checkpoint from Redis, a test
 * image): parsed with the same checks as a file, tensors served as views.
 *
 * @module
 */

import {
  headerLengthFrom,
  lookup,
  parseHeader,
  rowRange,
  type SafetensorsHeader,
  type TensorInfo,
} from "./header.ts";

/** An in-memory safetensors buffer, see {@linkcode parseSafetensors}. */
export interface SafetensorsBuffer extends SafetensorsHeader {
  /** Tensor names in data order. */
  names(): string[];
  /** The header entry of `name`; throws listing the available names. */
  tensor(name: string): TensorInfo;
  /** The tensor's bytes as a view into the parsed buffer (no copy). */
  tensorBytes(name: string): Uint8Array;
  /** Rows `[startRow, startRow + rowCount)` as a view (no copy). */
  rows(name: string, startRow: number, rowCount: number): Uint8Array;
}

/**
 * Parses and validates safetensors bytes already in memory (the same checks
 * as `openSafetensors`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSafetensors } from "./buffer.ts";
 * const header = '{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}';
 * const json = new TextEncoder().encode(header);
 * const bytes = new Uint8Array(8 + json.length + 2);
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
 * bytes.set(json, 8);
 * bytes.set([7, 9], 8 + json.length);
 * assert.deepEqual(parseSafetensors(bytes).tensorBytes("x"), new Uint8Array([7, 9]));
 * ```
 */
export function parseSafetensors(
  bytes: Uint8Array,
  options: { path?: string } = {},
): SafetensorsBuffer {
  const path = options.path ?? "<buffer>";
  const headerLength = headerLengthFrom(bytes, bytes.length, path);
  const header = parseHeader(
    bytes.subarray(8, 8 + headerLength),
    8 + headerLength,
    bytes.length,
    path,
  );
  return {
    ...header,
    names: () => [...header.tensors.keys()],
    tensor: (name) => lookup(header, name),
    tensorBytes(name) {
      const info = lookup(header, name);
      return bytes.subarray(info.byteOffset, info.byteOffset + info.byteLength);
    },
    rows(name, startRow, rowCount) {
      const { offset, length } = rowRange(header, name, startRow, rowCount);
      return bytes.subarray(offset, offset + length);
    },
  };
}
