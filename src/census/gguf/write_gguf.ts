/**
 * Writing small GGUF files, for the tests and the benchmark of the GGUF
 * census: a header (version 3 by default), metadata, tensor infos and the
 * aligned data section, plus ggml's reference quantizers for Q8_0 and Q4_0
 * (`quantize_row_q8_0_ref` and `quantize_row_q4_0_ref` in ggml-quants.c), so
 * that tests can plant rows that differ as floats and become one vector once
 * quantized.
 *
 * Not a general GGUF writer: values and layouts are what the tests need.
 *
 * @module
 */

import { GGUF_DEFAULT_ALIGNMENT } from "./header.ts";
import { ggmlTypeByName } from "./types.ts";

/** A metadata value with an explicit GGUF value type. */
interface TypedValue {
  /** `UINT32`, `INT32`, `FLOAT32`, `UINT64`, `BOOL`, `STRING`... */
  type: "UINT8" | "UINT32" | "INT32" | "FLOAT32" | "UINT64" | "BOOL" | "STRING";
  /** The value. */
  value: number | boolean | string;
}

/**
 * A metadata value: a string, a boolean, a number (written as UINT32), an
 * array of strings or of numbers (FLOAT32), or an explicitly typed value.
 */
type MetadataValue =
  | string
  | boolean
  | number
  | string[]
  | number[]
  | TypedValue;

/** One tensor to write. */
interface GgufTensorSpec {
  /** Tensor name. */
  name: string;
  /** ggml type name (`F16`, `Q8_0`, ...). */
  type: string;
  /** Row-major shape: `[rows, cols]` for a matrix (GGUF stores it reversed). */
  shape: number[];
  /** The stored bytes (already encoded in `type`). */
  data: Uint8Array;
  /** Writes this type id instead of `type`'s (to test unknown types). */
  typeId?: number;
  /** Writes this data offset instead of the computed one. */
  offset?: number;
}

/** What {@linkcode encodeGguf} writes. */
export interface GgufSpec {
  /** Format version written (default 3). */
  version?: number;
  /** Metadata, in order. `general.alignment` (UINT32) sets the alignment. */
  metadata?: Record<string, MetadataValue>;
  /** Tensors, in order. */
  tensors: GgufTensorSpec[];
}

const TYPE_IDS = {
  UINT8: 0,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
};

class Bytes {
  #chunks: Uint8Array[] = [];
  length = 0;
  #enc = new TextEncoder();

  raw(b: Uint8Array): void {
    this.#chunks.push(b);
    this.length += b.length;
  }
  #scalar(size: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(size);
    set(new DataView(b.buffer));
    this.raw(b);
  }
  u8(v: number): void {
    this.raw(new Uint8Array([v]));
  }
  u32(v: number): void {
    this.#scalar(4, (d) => d.setUint32(0, v, true));
  }
  i32(v: number): void {
    this.#scalar(4, (d) => d.setInt32(0, v, true));
  }
  f32(v: number): void {
    this.#scalar(4, (d) => d.setFloat32(0, v, true));
  }
  u64(v: number): void {
    this.#scalar(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  str(s: string): void {
    const b = this.#enc.encode(s);
    this.u64(b.length);
    this.raw(b);
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.raw(new Uint8Array(n));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function writeTyped(b: Bytes, v: TypedValue): void {
  b.u32(TYPE_IDS[v.type]);
  const x = v.value;
  if (v.type === "STRING") b.str(String(x));
  else if (v.type === "BOOL" || v.type === "UINT8") b.u8(Number(x));
  else if (v.type === "UINT32") b.u32(Number(x));
  else if (v.type === "INT32") b.i32(Number(x));
  else if (v.type === "FLOAT32") b.f32(Number(x));
  else b.u64(Number(x));
}

function writeValue(b: Bytes, v: MetadataValue): void {
  if (typeof v === "string") return writeTyped(b, { type: "STRING", value: v });
  if (typeof v === "boolean") return writeTyped(b, { type: "BOOL", value: v });
  if (typeof v === "number") return writeTyped(b, { type: "UINT32", value: v });
  if (!Array.isArray(v)) return writeTyped(b, v);
  b.u32(TYPE_IDS.ARRAY);
  const strings = v.length > 0 && typeof v[0] === "string";
  b.u32(strings ? TYPE_IDS.STRING : TYPE_IDS.FLOAT32);
  b.u64(v.length);
  for (const x of v) strings ? b.str(String(x)) : b.f32(Number(x));
}

/**
 * Encodes a GGUF file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeGguf } from "./write_gguf.ts";
 * const bytes = encodeGguf({ tensors: [] });
 * assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "GGUF");
 * ```
 */
export function encodeGguf(spec: GgufSpec): Uint8Array {
  const metadata = spec.metadata ?? {};
  const align = metadata["general.alignment"];
  const alignment = typeof align === "number"
    ? align
    : typeof align === "object" && !Array.isArray(align)
    ? Number(align.value)
    : GGUF_DEFAULT_ALIGNMENT;
  const safeAlign = alignment > 0 ? alignment : GGUF_DEFAULT_ALIGNMENT;
  const b = new Bytes();
  b.raw(new TextEncoder().encode("GGUF"));
  b.u32(spec.version ?? 3);
  b.u64(spec.tensors.length);
  b.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    b.str(key);
    writeValue(b, value);
  }
  let offset = 0;
  for (const t of spec.tensors) {
    const type = ggmlTypeByName(t.type);
    if (type === undefined) throw new Error(`unknown ggml type ${t.type}`);
    b.str(t.name);
    b.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) b.u64(d);
    b.u32(t.typeId ?? type.id);
    b.u64(t.offset ?? offset);
    offset += Math.ceil(t.data.length / safeAlign) * safeAlign;
  }
  b.pad(safeAlign);
  for (const t of spec.tensors) {
    b.raw(t.data);
    b.pad(safeAlign);
  }
  return b.concat();
}

/**
 * Writes a GGUF file at `path` (see {@linkcode encodeGguf}).
 *
 * @example
 * ```ts
 * import { writeGguf } from "./write_gguf.ts";
 * const path = await Deno.makeTempFile({ suffix: ".gguf" });
 * await writeGguf(path, { tensors: [] });
 * await Deno.remove(path);
 * ```
 */
export async function writeGguf(path: string, spec: GgufSpec): Promise<void> {
  await Deno.writeFile(path, encodeGguf(spec));
}

/**
 * `values` as little-endian F16 (round to nearest even, as ggml's
 * `GGML_FP32_TO_FP16`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toF16Bytes } from "./write_gguf.ts";
 * assert.deepEqual([...toF16Bytes([1])], [0x00, 0x3c]);
 * ```
 */
export function toF16Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float16Array.from(values).buffer);
}

/** `values` as little-endian F32. */
export function toF32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** C's `roundf`: halves away from zero. */
function roundf(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/**
 * Quantizes a row to Q8_0 as ggml's `quantize_row_q8_0_ref`: per block of
 * 32, scale `d = max|x| / 127` stored as F16, then `round(x / d)` as int8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantizeQ8_0 } from "./write_gguf.ts";
 * const q = quantizeQ8_0(new Float32Array(32).fill(1));
 * assert.equal(q.length, 34);
 * assert.equal(q[2], 127); // every value is max|x|: 127
 * ```
 */
export function quantizeQ8_0(row: Float32Array): Uint8Array {
  if (row.length % 32 !== 0) {
    throw new Error("Q8_0 rows hold 32-element blocks");
  }
  const out = new Uint8Array((row.length / 32) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < row.length / 32; b++) {
    const x = row.subarray(b * 32, b * 32 + 32);
    const amax = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    out.set(toF16Bytes([d]), b * 34);
    for (let j = 0; j < 32; j++) {
      view.setInt8(b * 34 + 2 + j, roundf(Math.fround(x[j] * id)));
    }
  }
  return out;
}

/**
 * Quantizes a row to Q4_0 as ggml's `quantize_row_q4_0_ref`: per block of
 * 32, `d = max / -8` (`max` the value of largest magnitude, sign kept)
 * stored as F16, then 4-bit `min(15, trunc(x / d + 8.5))`, element `j` in
 * the low nibble of byte `j` and element `j + 16` in its high nibble.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantizeQ4_0 } from "./write_gguf.ts";
 * const q = quantizeQ4_0(new Float32Array(32).fill(-2));
 * assert.equal(q.length, 18);
 * assert.equal(q[2], 0x00); // -2 / (2/8) + 8.5 = 0.5 -> 0 in both nibbles
 * ```
 */
export function quantizeQ4_0(row: Float32Array): Uint8Array {
  if (row.length % 32 !== 0) {
    throw new Error("Q4_0 rows hold 32-element blocks");
  }
  const out = new Uint8Array((row.length / 32) * 18);
  for (let b = 0; b < row.length / 32; b++) {
    const x = row.subarray(b * 32, b * 32 + 32);
    let amax = 0;
    let max = 0;
    for (const v of x) {
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    out.set(toF16Bytes([d]), b * 18);
    for (let j = 0; j < 16; j++) {
      const x0 = Math.fround(x[j] * id);
      const x1 = Math.fround(x[16 + j] * id);
      const q0 = Math.min(15, Math.trunc(Math.fround(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(x1 + 8.5)));
      out[b * 18 + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** Quantizes every row of a `[rows, cols]` matrix with `quantize`. */
export function quantizeRows(
  matrix: Float32Array,
  cols: number,
  quantize: (row: Float32Array) => Uint8Array,
): Uint8Array {
  const rows: Uint8Array[] = [];
  for (let r = 0; r * cols < matrix.length; r++) {
    rows.push(quantize(matrix.subarray(r * cols, (r + 1) * cols)));
  }
  const out = new Uint8Array(rows.reduce((n, r) => n + r.length, 0));
  rows.forEach((r, i) => out.set(r, i * r.length));
  return out;
}
