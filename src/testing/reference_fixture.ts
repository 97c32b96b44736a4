/**
 * Readers for the PyTorch reference fixtures (`fixtures/reference/`, written
 * by `tools/reference/`): a fixture opened whole (plain, or compacted and
 * Brotli-compressed as `tools/reference/compact.ts` stores the large ones),
 * tensors as float32 or int32, and a step's batch rebuilt from the stored
 * windows.
 *
 * @module
 */

import zlib from "node:zlib";
import {
  bf16BytesToFloat32,
  parseSafetensors,
  type TensorInfo,
} from "../io/safetensors/mod.ts";
import { type Batch, makeBatch, type Objective } from "../data/sampler.ts";

/** What the readers need: a `SafetensorsFile` or a {@linkcode ReferenceFixture}. */
export interface FixtureTensors {
  /** The stored dtype and shape of `name`. */
  tensor(name: string): TensorInfo;
  /** The stored bytes of `name`. */
  readTensorBytes(name: string): Promise<Uint8Array>;
}

/** A reference fixture in memory, see {@linkcode openReferenceFixture}. */
export interface ReferenceFixture extends FixtureTensors {
  /** The header's metadata (`magic`, `version`, `cases`, ...). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Every tensor name, the aliased ones included. */
  names(): string[];
}

/**
 * The metadata key of a compacted fixture's aliases: a JSON object mapping a
 * tensor name to the stored tensor holding the same bytes.
 */
export const ALIASES_KEY = "aliases";

/**
 * Opens a reference fixture whole: `.safetensors`, or `.safetensors.br`
 * (Brotli, decompressed here). Names listed in the `aliases` metadata read the
 * tensor they alias; F32 values stored as BF16 (exact, see `floats`) read
 * back as the same float32 numbers.
 */
export async function openReferenceFixture(
  path: string,
): Promise<ReferenceFixture> {
  let bytes: Uint8Array = await Deno.readFile(path);
  if (path.endsWith(".br")) bytes = zlib.brotliDecompressSync(bytes);
  const file = parseSafetensors(bytes, { path });
  const aliases: Record<string, string> = JSON.parse(
    file.metadata[ALIASES_KEY] ?? "{}",
  );
  const stored = (name: string) => aliases[name] ?? name;
  return {
    metadata: file.metadata,
    names: () => [...file.names(), ...Object.keys(aliases)].sort(),
    tensor: (name) => file.tensor(stored(name)),
    readTensorBytes: (name) =>
      Promise.resolve(file.tensorBytes(stored(name)).slice()),
  };
}

/** A stored F32, F64 or BF16 tensor as float32. */
export async function floats(
  f: FixtureTensors,
  name: string,
): Promise<Float32Array> {
  const info = f.tensor(name);
  const bytes = await f.readTensorBytes(name);
  const buf = bytes.buffer.slice(
    bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength,
  );
  if (info.dtype === "F32") return new Float32Array(buf);
  if (info.dtype === "F64") return Float32Array.from(new Float64Array(buf));
  if (info.dtype === "BF16") return bf16BytesToFloat32(bytes);
  throw new Error(`${name}: unexpected dtype ${info.dtype}`);
}

/** A stored I32 tensor. */
export async function ints(
  f: FixtureTensors,
  name: string,
): Promise<Int32Array> {
  const bytes = await f.readTensorBytes(name);
  return new Int32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

/** The shape of a fixture case's batches. */
export interface FixtureBatchShape {
  /** Windows per batch. */
  readonly B: number;
  /** Tokens per window. */
  readonly T: number;
}

/**
 * Step `step`'s batch from the fixture's windows `chunks` [steps, B, T+1]:
 * the window bytes laid out back to back, so each row's offset is its start.
 */
export function fixtureBatch(
  chunks: Int32Array,
  step: number,
  c: FixtureBatchShape,
  objective: Objective,
): Batch {
  const row = c.T + 1;
  const start = step * c.B * row;
  const bytes = Uint8Array.from(chunks.subarray(start, start + c.B * row));
  const offsets = Int32Array.from({ length: c.B }, (_, b) => b * row);
  return makeBatch(bytes, offsets, c.T, objective);
}

/**
 * Distance between two numbers in bf16 ulps at the larger magnitude (units
 * of 2^(exponent - 7)); 0 when equal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bf16Ulps } from "./reference_fixture.ts";
 * assert.equal(bf16Ulps(1, 1 + 2 ** -7), 1);
 * assert.equal(bf16Ulps(0.5, 0.5), 0);
 * ```
 */
export function bf16Ulps(a: number, b: number): number {
  if (a === b) return 0;
  const mag = Math.max(Math.abs(a), Math.abs(b));
  return Math.abs(a - b) / 2 ** (Math.floor(Math.log2(mag)) - 7);
}
