/**
 * Parsing the header of a GGUF file (llama.cpp's format, versions 2 and 3,
 * little-endian): magic `GGUF`, version, tensor and key-value counts, the
 * metadata key-values, the tensor infos, then the data section at the next
 * multiple of `general.alignment` (default 32). Each tensor's offset is
 * relative to the data section and must be a multiple of the alignment.
 *
 * Every count, length and offset is checked against the file's size before
 * anything is allocated, so a damaged file is one {@linkcode GgufError}
 * naming the problem, never a huge allocation or a stack trace.
 *
 * @module
 */

import { GgufError } from "./error.ts";
import { type GgmlType, ggmlType } from "./types.ts";

/** Default of `general.alignment`. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF versions this reader understands (both use 64-bit counts). */
const GGUF_VERSIONS: readonly number[] = [2, 3];

/** Most dimensions a ggml tensor has (`GGML_MAX_DIMS`). */
const MAX_DIMS = 4;

/** A metadata value: numbers (bigint when beyond 2^53), strings, booleans, arrays. */
type GgufValue = number | bigint | string | boolean | GgufValue[];

/** One tensor of a GGUF file. */
export interface GgufTensorInfo {
  /** Tensor name. */
  readonly name: string;
  /** Its ggml type. */
  readonly type: GgmlType;
  /** ggml's `ne`: element counts, fastest-varying first. */
  readonly dims: readonly number[];
  /** Row-major shape (`dims` reversed): `[rows, cols]` for a matrix. */
  readonly shape: readonly number[];
  /** Absolute byte offset of its data in the file. */
  readonly byteOffset: number;
  /** Bytes of its data. */
  readonly byteLength: number;
  /** Bytes per row (`dims[0]` elements). */
  readonly rowBytes: number;
}

/** The parsed header of a GGUF file. */
export interface GgufHeader {
  /** The file. */
  readonly path: string;
  /** Format version (2 or 3). */
  readonly version: number;
  /** Alignment of the data section and of every tensor. */
  readonly alignment: number;
  /** Metadata key-values, in file order. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** Tensor infos, in file order. */
  readonly tensors: ReadonlyMap<string, GgufTensorInfo>;
  /** Absolute offset of the data section. */
  readonly dataStart: number;
  /** Size of the file in bytes. */
  readonly fileSize: number;
}

/**
 * Thrown by {@linkcode parseGgufHeader} when the header runs past the bytes
 * given but not past the file: read more and parse again.
 */
export class NeedMoreBytes extends Error {
  /** Builds the signal. */
  constructor() {
    super("the GGUF header continues past the bytes read");
    this.name = "NeedMoreBytes";
  }
}

const VALUE_TYPES = [
  "UINT8",
  "INT8",
  "UINT16",
  "INT16",
  "UINT32",
  "INT32",
  "FLOAT32",
  "BOOL",
  "STRING",
  "ARRAY",
  "UINT64",
  "INT64",
  "FLOAT64",
] as const;
const FIXED_SIZES = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
const UINT32 = 4;
const STRING = 8;
const ARRAY = 9;

/** A read position in the header bytes, checked against the buffer and the file. */
class Cursor {
  pos = 0;
  readonly #view: DataView;
  readonly #decoder = new TextDecoder();

  constructor(
    readonly bytes: Uint8Array,
    readonly path: string,
    readonly fileSize: number,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /** Ensures `n` more bytes are here (else asks for more or says truncated). */
  need(n: number, what: string): void {
    if (this.pos + n <= this.bytes.length) return;
    if (this.bytes.length < this.fileSize) throw new NeedMoreBytes();
    throw new GgufError(
      "truncated",
      this.path,
      `truncated: the file ends at byte ${this.fileSize} inside the header (reading ${what} at byte ${this.pos})`,
    );
  }

  /** Ensures `count` items of at least `minBytes` each can still fit in the file. */
  fits(count: number, minBytes: number, what: string): void {
    if (count * minBytes <= this.fileSize - this.pos) return;
    throw new GgufError(
      "truncated",
      this.path,
      `truncated: ${what} claims ${count} entries at byte ${this.pos}, more than the ${
        this.fileSize - this.pos
      } bytes left in the file`,
    );
  }

  u8(what: string): number {
    this.need(1, what);
    return this.#view.getUint8(this.pos++);
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A u64 that must be a safe integer (a count, length or offset). */
  size(what: string): number {
    this.need(8, what);
    const v = this.#view.getBigUint64(this.pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new GgufError(
        "truncated",
        this.path,
        `${what} at byte ${this.pos} is ${v}, beyond any file size`,
      );
    }
    this.pos += 8;
    return Number(v);
  }

  string(what: string): string {
    const n = this.size(`the length of ${what}`);
    this.fits(n, 1, what);
    this.need(n, what);
    const s = this.#decoder.decode(
      this.bytes.subarray(this.pos, this.pos + n),
    );
    this.pos += n;
    return s;
  }

  /** A scalar metadata value of value type `t` (not STRING or ARRAY). */
  scalar(t: number, what: string): GgufValue {
    this.need(FIXED_SIZES[t], what);
    const v = this.#view;
    const p = this.pos;
    this.pos += FIXED_SIZES[t];
    switch (t) {
      case 0:
        return v.getUint8(p);
      case 1:
        return v.getInt8(p);
      case 2:
        return v.getUint16(p, true);
      case 3:
        return v.getInt16(p, true);
      case 4:
        return v.getUint32(p, true);
      case 5:
        return v.getInt32(p, true);
      case 6:
        return v.getFloat32(p, true);
      case 7:
        return v.getUint8(p) !== 0;
      case 10:
        return safe(v.getBigUint64(p, true));
      case 11:
        return safe(v.getBigInt64(p, true));
      default:
        return v.getFloat64(p, true);
    }
  }
}

function safe(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) &&
      v >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(v)
    : v;
}

function valueType(c: Cursor, key: string): number {
  const at = c.pos;
  const t = c.u32(`the value type of "${key}"`);
  if (t >= VALUE_TYPES.length) {
    throw new GgufError(
      "bad-metadata",
      c.path,
      `metadata "${key}" has unknown value type ${t} at byte ${at}`,
    );
  }
  return t;
}

function readValue(c: Cursor, t: number, key: string, depth = 0): GgufValue {
  if (t === STRING) return c.string(`the value of "${key}"`);
  if (t !== ARRAY) return c.scalar(t, `the value of "${key}"`);
  if (depth > 0) {
    // ggml writes no nested arrays; refusing them bounds the recursion.
    throw new GgufError(
      "bad-metadata",
      c.path,
      `metadata "${key}" holds an array of arrays, which GGUF readers do not accept`,
    );
  }
  const inner = valueType(c, key);
  const n = c.size(`the length of "${key}"`);
  c.fits(n, inner === STRING ? 8 : FIXED_SIZES[inner] || 1, `"${key}"`);
  const out: GgufValue[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readValue(c, inner, key, depth + 1);
  return out;
}

function readHead(
  c: Cursor,
): { version: number; tensors: number; kvs: number } {
  c.need(4, "the magic");
  const magic = c.bytes.subarray(0, 4);
  if (String.fromCharCode(...magic) !== "GGUF") {
    throw new GgufError(
      "bad-magic",
      c.path,
      `not a GGUF file (starts with ${
        [...magic].map((b) => b.toString(16).padStart(2, "0")).join(" ")
      }, expected "GGUF")`,
    );
  }
  c.pos = 4;
  const version = c.u32("the version");
  if (!GGUF_VERSIONS.includes(version)) {
    const hint = version !== 0 && (version & 0xffff) === 0
      ? " (a big-endian file?)"
      : version === 1
      ? " (GGUF v1, superseded in 2023)"
      : "";
    throw new GgufError(
      "bad-version",
      c.path,
      `unsupported GGUF version ${version}${hint}; this reader reads versions ${
        GGUF_VERSIONS.join(" and ")
      }`,
    );
  }
  const tensors = c.size("the tensor count");
  const kvs = c.size("the metadata count");
  return { version, tensors, kvs };
}

function readMetadata(c: Cursor, count: number): Map<string, GgufValue> {
  c.fits(count, 12, "the metadata count");
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < count; i++) {
    const key = c.string(`metadata key ${i}`);
    const t = valueType(c, key);
    if (metadata.has(key)) {
      throw new GgufError(
        "bad-metadata",
        c.path,
        `metadata key "${key}" appears twice`,
      );
    }
    metadata.set(key, readValue(c, t, key));
    if (key === "general.alignment" && t !== UINT32) {
      throw new GgufError(
        "bad-alignment",
        c.path,
        `general.alignment has type ${VALUE_TYPES[t]}, expected UINT32`,
      );
    }
  }
  return metadata;
}

interface RawTensor {
  name: string;
  type: GgmlType;
  dims: number[];
  offset: number;
}

function readTensorInfo(c: Cursor, i: number): RawTensor {
  const name = c.string(`the name of tensor ${i}`);
  const nDims = c.u32(`the dimension count of "${name}"`);
  if (nDims > MAX_DIMS) {
    throw new GgufError(
      "bad-tensor",
      c.path,
      `tensor "${name}" has ${nDims} dimensions; ggml tensors have at most ${MAX_DIMS}`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < nDims; d++) {
    dims.push(c.size(`dimension ${d} of "${name}"`));
  }
  const typeId = c.u32(`the type of "${name}"`);
  const type = ggmlType(typeId);
  if (type === undefined) {
    throw new GgufError(
      "unknown-type",
      c.path,
      `tensor "${name}" has unknown ggml type id ${typeId}`,
    );
  }
  const offset = c.size(`the offset of "${name}"`);
  return { name, type, dims, offset };
}

function tensorInfo(
  c: Cursor,
  raw: RawTensor,
  layout: { dataStart: number; alignment: number },
): GgufTensorInfo {
  const { name, type, dims, offset } = raw;
  const cols = dims.length === 0 ? 1 : dims[0];
  if (cols % type.blockSize !== 0) {
    throw new GgufError(
      "bad-tensor",
      c.path,
      `tensor "${name}" (${type.name}) has rows of ${cols} elements, not a whole number of ${type.blockSize}-element blocks`,
    );
  }
  if (offset % layout.alignment !== 0) {
    throw new GgufError(
      "bad-alignment",
      c.path,
      `tensor "${name}" starts at data offset ${offset}, not a multiple of the alignment ${layout.alignment}`,
    );
  }
  const rowBytes = (cols / type.blockSize) * type.blockBytes;
  const byteLength = dims.slice(1).reduce((n, d) => n * d, rowBytes);
  const byteOffset = layout.dataStart + offset;
  if (
    !Number.isSafeInteger(byteLength) || byteOffset + byteLength > c.fileSize
  ) {
    throw new GgufError(
      "past-end",
      c.path,
      `tensor "${name}" (${type.name} [${
        [...dims].reverse().join(", ")
      }], bytes ${byteOffset}..${
        byteOffset + byteLength
      }) extends past the end of the file (${c.fileSize} bytes)`,
    );
  }
  return {
    name,
    type,
    dims,
    shape: [...dims].reverse(),
    byteOffset,
    byteLength,
    rowBytes,
  };
}

function alignmentOf(c: Cursor, metadata: Map<string, GgufValue>): number {
  const a = metadata.get("general.alignment") ?? GGUF_DEFAULT_ALIGNMENT;
  if (typeof a !== "number" || a === 0 || (a & (a - 1)) !== 0) {
    throw new GgufError(
      "bad-alignment",
      c.path,
      `general.alignment is ${a}, not a power of two`,
    );
  }
  return a;
}

/**
 * Parses a GGUF header from the first bytes of a file of `fileSize` bytes.
 * Throws {@linkcode NeedMoreBytes} when `bytes` ends inside the header but
 * the file goes on, and {@linkcode GgufError} when the file is not a valid
 * GGUF file (bad magic, unsupported version, truncated header, bad
 * alignment, unknown type, tensor past the end).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGgufHeader } from "./header.ts";
 * import { encodeGguf } from "./write_gguf.ts";
 * const bytes = encodeGguf({
 *   metadata: { "general.architecture": "llama" },
 *   tensors: [{ name: "token_embd.weight", type: "F32", shape: [2, 3], data: new Uint8Array(24) }],
 * });
 * const h = parseGgufHeader(bytes, { path: "m.gguf", fileSize: bytes.length });
 * assert.equal(h.metadata.get("general.architecture"), "llama");
 * assert.deepEqual(h.tensors.get("token_embd.weight")?.shape, [2, 3]);
 * ```
 */
export function parseGgufHeader(
  bytes: Uint8Array,
  options: { path: string; fileSize: number },
): GgufHeader {
  const c = new Cursor(bytes, options.path, options.fileSize);
  const { version, tensors: count, kvs } = readHead(c);
  const metadata = readMetadata(c, kvs);
  const alignment = alignmentOf(c, metadata);
  c.fits(count, 8 + 4 + 4 + 8, "the tensor count");
  const raws: RawTensor[] = [];
  for (let i = 0; i < count; i++) raws.push(readTensorInfo(c, i));
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  const tensors = new Map<string, GgufTensorInfo>();
  for (const raw of raws) {
    if (tensors.has(raw.name)) {
      throw new GgufError(
        "bad-tensor",
        c.path,
        `tensor "${raw.name}" is listed twice`,
      );
    }
    tensors.set(raw.name, tensorInfo(c, raw, { dataStart, alignment }));
  }
  return {
    path: options.path,
    version,
    alignment,
    metadata,
    tensors,
    dataStart,
    fileSize: options.fileSize,
  };
}
