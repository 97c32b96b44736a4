/**
 * Writing a whole safetensors file from tensors in memory: the checks on
 * names, dtypes and shapes, the header encoding (shared with the streamed
 * writer), the file's bytes, and the atomic write of them.
 *
 * Byte order: typed-array inputs are taken as their bytes in platform
 * order, which is little-endian on every platform Deno supports.
 *
 * @module
 */

import { writeFileAtomic } from "../atomic.ts";
import {
  type Dtype,
  DTYPE_SIZES,
  isDtype,
  isNonNegativeInt,
  shapeSize,
} from "./dtype.ts";
import { ioReason, SafetensorsError } from "./error.ts";

/** Name, dtype and shape of a tensor to be written. */
export interface TensorSpec {
  /** Tensor name; `"__metadata__"` is reserved. */
  name: string;
  /** Element type. */
  dtype: Dtype;
  /** Dimensions, outermost first. */
  shape: readonly number[];
}

/** A tensor to write: dtype, shape and its raw bytes. */
export interface TensorData {
  /** Element type. */
  dtype: Dtype;
  /** Dimensions, outermost first. */
  shape: readonly number[];
  /**
   * The elements, row-major. Any typed array; its bytes are written as they
   * are, so a `Float32Array` fits `F32`, a `Uint8Array` any dtype.
   */
  data: ArrayBufferView;
}

/** Options of {@linkcode writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** Written as `"__metadata__"` (first in the header) when given. */
  metadata?: Record<string, string>;
}

/** Options of {@linkcode encodeSafetensors}. */
export interface EncodeSafetensorsOptions extends WriteSafetensorsOptions {
  /** Named in error messages; default `"<buffer>"`. */
  path?: string;
}

/** The bytes of a typed array or DataView (no copy). */
export function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Checks tensor names (non-empty, unique, not `__metadata__`), dtypes and
 * shapes; returns each tensor's byte length. Errors name `path`.
 */
export function checkSpecs(
  specs: readonly TensorSpec[],
  path: string,
): number[] {
  const seen = new Set<string>();
  return specs.map((s) => {
    const bad = (what: string) =>
      new SafetensorsError(
        "invalid-argument",
        path,
        `tensor "${s.name}": ${what}`,
      );
    if (
      typeof s.name !== "string" || s.name === "" || s.name === "__metadata__"
    ) {
      throw bad("name must be a non-empty string other than __metadata__");
    }
    if (seen.has(s.name)) throw bad("name given twice");
    seen.add(s.name);
    if (!isDtype(s.dtype)) {
      throw bad(`unknown dtype ${JSON.stringify(s.dtype)}`);
    }
    if (!Array.isArray(s.shape) || !s.shape.every(isNonNegativeInt)) {
      throw bad(
        `shape ${
          JSON.stringify(s.shape)
        } is not an array of non-negative integers`,
      );
    }
    try {
      return shapeSize(s.shape) * DTYPE_SIZES[s.dtype];
    } catch {
      throw bad(`shape [${s.shape.join(", ")}] is too large`);
    }
  });
}

/**
 * The header bytes (length prefix + JSON + space padding) for tensors stored
 * back to back in the given order. Padding makes `8 + N` a multiple of 8 like
 * the reference writer, so the data section is 8-byte aligned.
 */
export function encodeHeader(
  specs: readonly TensorSpec[],
  byteLengths: readonly number[],
  metadata: Record<string, string> | undefined,
  path: string,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new SafetensorsError(
          "invalid-argument",
          path,
          `metadata value for "${k}" is not a string`,
        );
      }
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  specs.forEach((s, i) => {
    header[s.name] = {
      dtype: s.dtype,
      shape: [...s.shape],
      data_offsets: [offset, offset + byteLengths[i]],
    };
    offset += byteLengths[i];
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/**
 * A safetensors file's bytes: header (metadata first, then the tensors in
 * the insertion order of `tensors`, stored back to back), padding, data.
 * Errors name `options.path` (default `"<buffer>"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSafetensors } from "./buffer.ts";
 * import { encodeSafetensors } from "./writer.ts";
 * const bytes = encodeSafetensors({
 *   w: { dtype: "F32", shape: [2], data: new Float32Array([1, -2]) },
 * }, { metadata: { step: "0" } });
 * const back = parseSafetensors(bytes);
 * assert.deepEqual(back.metadata, { step: "0" });
 * assert.equal(back.dataStart % 8, 0);
 * assert.deepEqual(new Float32Array(back.tensorBytes("w").slice().buffer), new Float32Array([1, -2]));
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, TensorData>,
  options: EncodeSafetensorsOptions = {},
): Uint8Array {
  const path = options.path ?? "<buffer>";
  const specs = Object.entries(tensors).map(([name, t]) => ({
    name,
    dtype: t.dtype,
    shape: t.shape,
  }));
  const lengths = checkSpecs(specs, path);
  const datas = Object.values(tensors).map((t, i) => {
    const bytes = ArrayBuffer.isView(t.data) ? asBytes(t.data) : null;
    if (bytes === null || bytes.length !== lengths[i]) {
      throw new SafetensorsError(
        "invalid-argument",
        path,
        `tensor "${specs[i].name}": ${specs[i].dtype} [${
          specs[i].shape.join(", ")
        }] needs ${lengths[i]} bytes but data has ${
          bytes?.length ?? "no"
        } bytes`,
      );
    }
    return bytes;
  });
  const header = encodeHeader(specs, lengths, options.metadata, path);
  const out = new Uint8Array(
    header.length + lengths.reduce((a, b) => a + b, 0),
  );
  out.set(header);
  let at = header.length;
  for (const d of datas) {
    out.set(d, at);
    at += d.length;
  }
  return out;
}

/**
 * Writes tensors to a safetensors file atomically (through
 * `writeFileAtomic`: a temporary file in the same directory, renamed over
 * `path` when complete, removed on failure), so readers never see a partial
 * file. Tensors are stored in insertion order of `tensors`. The file is not
 * fsynced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSafetensors } from "./reader.ts";
 * import { writeSafetensors } from "./writer.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeSafetensors(`${dir}/w.safetensors`, {
 *     wte: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
 *   }, { metadata: { step: "0" } });
 *   const file = await openSafetensors(`${dir}/w.safetensors`);
 *   assert.deepEqual(file.tensor("wte").shape, [2, 2]);
 *   file.close();
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorData>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const bytes = encodeSafetensors(tensors, { ...options, path });
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new SafetensorsError("io", path, `cannot write (${ioReason(e)})`);
  }
}
