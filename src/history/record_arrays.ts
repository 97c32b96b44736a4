/**
 * A record's per-step arrays (losses, gradient norms, the C/P trajectory) as
 * one small binary file beside its JSON: a gzip-compressed safetensors file.
 *
 * Each array is stored in the narrowest element type that holds every value
 * exactly: counts in U8, U16 or U32 when they fit, other numbers in F32 when
 * every value is a float32 (the losses and gradient norms the engine
 * returns), else F64. Encoding decodes its own output and compares every
 * value (`Object.is`: -0 and NaN included), so no bit is ever lost.
 *
 * Layout: an array of n elements of a w-byte type is the U8 tensor [w, n]
 * whose row k holds byte k (little-endian) of every element: the bytes of
 * equal significance side by side, which gzip compresses far better than
 * whole floats (a 10,000-step record: ~107 kB instead of ~140 kB). The
 * element type of each tensor is its name's entry in `__metadata__`; with
 * Python: `np.ascontiguousarray(t.T).view("<f4").ravel()` for an F32 one.
 *
 * @module
 */

import { gunzipSync, gzipSync } from "node:zlib";
import { encodeSafetensors } from "../io/safetensors/writer.ts";
import { parseSafetensors } from "../io/safetensors/buffer.ts";

/** What an array holds: counts (step, C, P) or measured numbers. */
export type ArrayKind = "count" | "float";

/** One named array of a record. */
export interface NamedArray {
  /** Tensor name, e.g. `"loss"` or `"trajectory.C"`. */
  readonly name: string;
  /** What it holds: decides the element types it may be stored in. */
  readonly kind: ArrayKind;
  /** Its values. */
  readonly values: readonly number[];
}

/** `__metadata__.format` of an arrays file. */
export const ARRAYS_FORMAT = "horizon-record-arrays/1";

const TYPED = {
  U8: Uint8Array,
  U16: Uint16Array,
  U32: Uint32Array,
  F32: Float32Array,
  F64: Float64Array,
} as const;

type StoredType = keyof typeof TYPED;

const LAYOUT = "each tensor is U8 [w, n]: row k holds byte k (little-endian)" +
  " of every element; the element type is the metadata entry of its name";

/** The narrowest element type that holds every value of `a` exactly. */
function storedType(a: NamedArray): StoredType {
  const v = a.values;
  if (
    a.kind === "count" &&
    v.every((x) => Number.isInteger(x) && x >= 0 && !Object.is(x, -0))
  ) {
    const max = v.reduce((m, x) => Math.max(m, x), 0);
    if (max <= 0xff) return "U8";
    if (max <= 0xffff) return "U16";
    if (max <= 0xffffffff) return "U32";
  }
  return v.every((x) => Object.is(Math.fround(x), x)) ? "F32" : "F64";
}

/** Byte k of element i moved to `[k * n + i]` (or back, with `back`). */
function planes(
  bytes: Uint8Array,
  width: number,
  back = false,
): Uint8Array<ArrayBuffer> {
  const n = bytes.length / width;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < width; k++) {
      if (back) out[i * width + k] = bytes[k * n + i];
      else out[k * n + i] = bytes[i * width + k];
    }
  }
  return out;
}

/**
 * The arrays file holding `arrays` (see the module doc). Throws when a value
 * would not come back exactly (which the type choice rules out).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeArrays, encodeArrays } from "./record_arrays.ts";
 * const loss = [4.814138889312744, 0.5, -0];
 * const bytes = encodeArrays([
 *   { name: "loss", kind: "float", values: loss },
 *   { name: "C", kind: "count", values: [0, 3, 300] },
 * ]);
 * const back = decodeArrays(bytes, "r.safetensors.gz");
 * assert.deepEqual(back.get("loss"), loss);
 * assert.ok(Object.is(back.get("loss")![2], -0));
 * assert.deepEqual(back.get("C"), [0, 3, 300]);
 * ```
 */
export function encodeArrays(arrays: readonly NamedArray[]): Uint8Array {
  const metadata: Record<string, string> = {
    format: ARRAYS_FORMAT,
    layout: LAYOUT,
  };
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const a of arrays) {
    const type = storedType(a);
    const typed = TYPED[type].from(a.values);
    const width = typed.BYTES_PER_ELEMENT;
    const bytes = new Uint8Array(typed.buffer);
    metadata[a.name] = type;
    tensors[a.name] = {
      dtype: "U8",
      shape: [width, a.values.length],
      data: planes(bytes, width),
    };
  }
  const file = new Uint8Array(
    gzipSync(encodeSafetensors(tensors, { metadata }), { level: 9 }),
  );
  const back = decodeArrays(file, "<new arrays file>");
  for (const a of arrays) {
    const got = back.get(a.name)!;
    const at = a.values.findIndex((x, i) => !Object.is(x, got[i]));
    if (got.length !== a.values.length || at >= 0) {
      throw new Error(`${a.name}[${at}] does not survive its arrays file`);
    }
  }
  return file;
}

/**
 * The arrays of an arrays file, by name. Throws an Error saying what is
 * wrong (the caller names the file); `maxBytes` bounds what the gzip stream
 * may expand to.
 */
export function decodeArrays(
  file: Uint8Array,
  path: string,
  maxBytes = 1 << 28,
): Map<string, number[]> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(gunzipSync(file, { maxOutputLength: maxBytes }));
  } catch (e) {
    throw new Error(
      `not a gzip stream of at most ${maxBytes} bytes (${
        (e as Error).message
      })`,
    );
  }
  const st = parseSafetensors(bytes, { path });
  const meta = st.metadata;
  if (meta.format !== ARRAYS_FORMAT) {
    throw new Error(
      `format ${JSON.stringify(meta.format)}, not ${ARRAYS_FORMAT}`,
    );
  }
  const out = new Map<string, number[]>();
  for (const name of st.names()) {
    const type = meta[name];
    const info = st.tensor(name);
    if (!Object.hasOwn(TYPED, type ?? "")) {
      throw new Error(`${name}: element type ${JSON.stringify(type)}`);
    }
    const width = TYPED[type as StoredType].BYTES_PER_ELEMENT;
    if (
      info.dtype !== "U8" || info.shape.length !== 2 ||
      info.shape[0] !== width
    ) {
      throw new Error(`${name}: not ${type} byte planes`);
    }
    const raw = planes(st.tensorBytes(name), width, true);
    out.set(name, Array.from(new TYPED[type as StoredType](raw.buffer)));
  }
  return out;
}
