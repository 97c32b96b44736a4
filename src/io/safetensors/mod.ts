/**
 * Reading and writing `.safetensors` files.
 *
 * The format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian unsigned length `N`, then `N` bytes of UTF-8 JSON mapping each
 * tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative
 * to the start of the data section) plus an optional `"__metadata__"` map of
 * strings, then the data section. Tensors are stored row-major, little-endian.
 *
 * - `header.ts`: the header, validated before any offset in it is used;
 * - `reader.ts`: {@linkcode openSafetensors}, positioned reads of single
 *   tensors and row blocks (nothing ever reads a whole file);
 * - `buffer.ts`: {@linkcode parseSafetensors}, the same for bytes in memory;
 * - `writer.ts`: {@linkcode encodeSafetensors} and the atomic
 *   {@linkcode writeSafetensors};
 * - `stream_writer.ts`: {@linkcode createSafetensorsStreamWriter}, header
 *   first and data as it comes, resumable;
 * - `codecs.ts`: BF16/F16 element bytes to and from float32;
 * - `dtype.ts`, `error.ts`: dtypes and shapes, the error type.
 *
 * @example Writing a file and reading a row back
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSafetensors, writeSafetensors } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const path = `${dir}/w.safetensors`;
 *   await writeSafetensors(path, {
 *     wte: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
 *   });
 *   const file = await openSafetensors(path);
 *   try {
 *     const row = await file.readRows("wte", 1, 1);
 *     assert.deepEqual(new Float32Array(row.slice().buffer), new Float32Array([3, 4]));
 *   } finally {
 *     file.close();
 *   }
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @module
 */

export {
  type Dtype,
  DTYPE_SIZES,
  isDtype,
  rowBytesOf,
  shapeSize,
} from "./dtype.ts";
export { SafetensorsError, type SafetensorsErrorCode } from "./error.ts";
export {
  MAX_HEADER_BYTES,
  type SafetensorsHeader,
  type TensorInfo,
} from "./header.ts";
export {
  openSafetensors,
  type ReadRowsOptions,
  type RowBlock,
  type RowBlocksOptions,
  type SafetensorsFile,
} from "./reader.ts";
export { parseSafetensors, type SafetensorsBuffer } from "./buffer.ts";
export {
  encodeSafetensors,
  type EncodeSafetensorsOptions,
  type TensorData,
  type TensorSpec,
  writeSafetensors,
  type WriteSafetensorsOptions,
} from "./writer.ts";
export {
  createSafetensorsStreamWriter,
  type SafetensorsStreamWriter,
  type StreamWriterOptions,
} from "./stream_writer.ts";
export {
  bf16BytesToFloat32,
  f16BytesToFloat32,
  float32ToBf16Bytes,
} from "./codecs.ts";
