/**
 * Hashers: turn blocks of rows into row keys, by the JavaScript loop or the
 * SIMD kernel (the keys are the same), and flag rows holding NaN or ±Inf.
 *
 * @module
 */

import { BlackHoleError } from "../black_hole_error.ts";
import type { KernelFunction } from "./kernel.ts";
import { type NonFiniteSpec, rowNonFinite } from "./non_finite.ts";
import { fmix32, keyHigh, keyLow, type RowHash } from "./row_hash.ts";

/** Which implementation hashes rows (the keys are the same). */
export type HashEngine = "auto" | "js" | "wasm";

/** Hashes blocks of rows into keys: the JS loop or the SIMD kernel. */
export interface Hasher {
  /** Two buffers for streamed blocks; blocks read into them hash without a copy. */
  readonly buffers: [Uint8Array, Uint8Array];
  /**
   * Writes the keys of `block`'s rows to `keys` from index `firstRow`, and to
   * `tags` 32 well-mixed bits of each key (equal keys, equal tags) for the
   * key table; with a non-finite check, 1 to `flags` for each row holding a
   * NaN or ±Inf (0 for the others).
   */
  hash(
    block: Uint8Array,
    keys: Float64Array,
    tags: Int32Array,
    firstRow: number,
    flags: Uint8Array | null,
  ): void;
}

/**
 * A hasher running `hash` on each row in JavaScript. With `checked` (a
 * caller's own hash), each key is checked to be a non-negative safe integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsHasher } from "./hasher.ts";
 * import { hashRowBytes } from "./row_hash.ts";
 * const h = jsHasher(2, 4, hashRowBytes, false, null);
 * const keys = new Float64Array(3);
 * h.hash(new Uint8Array([1, 2, 3, 4, 1, 2]), keys, new Int32Array(3), 0, null);
 * assert.equal(keys[0], keys[2]);
 * assert.notEqual(keys[0], keys[1]);
 * ```
 */
export function jsHasher(
  rowBytes: number,
  blockRows: number,
  hash: RowHash,
  checked: boolean,
  spec: NonFiniteSpec | null,
): Hasher {
  return {
    buffers: [
      new Uint8Array(blockRows * rowBytes),
      new Uint8Array(blockRows * rowBytes),
    ],
    hash(block, keys, tags, firstRow, flags) {
      const view = new DataView(block.buffer, block.byteOffset, block.length);
      if (spec !== null && flags !== null) {
        for (let off = 0, row = firstRow; off < block.length; off += rowBytes) {
          flags[row++] = rowNonFinite(view, off, rowBytes, spec) ? 1 : 0;
        }
      }
      let row = firstRow;
      for (let off = 0; off < block.length; off += rowBytes) {
        const k = hash(view, off, rowBytes);
        if (checked && !(Number.isSafeInteger(k) && k >= 0)) {
          throw new BlackHoleError(
            `row hash returned ${k}, not a non-negative safe integer`,
          );
        }
        keys[row] = k;
        // Both halves mixed: custom hashes may vary only in their high bits.
        tags[row++] = fmix32((k >>> 0) ^ (k / 4294967296));
      }
    },
  };
}

/**
 * A hasher running the SIMD kernel `module` (see kernel.ts) on blocks of up
 * to `blockRows` rows of `rowBytes` bytes, a multiple of 64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmHasher } from "./hasher.ts";
 * import { kernelModule } from "./kernel.ts";
 * const h = wasmHasher(kernelModule()!, 64, 2, null);
 * const [buffer] = h.buffers; // read into it: hashed without a copy
 * buffer.fill(7);
 * const keys = new Float64Array(2);
 * h.hash(buffer, keys, new Int32Array(2), 0, null);
 * assert.equal(keys[0], keys[1]);
 * ```
 */
export function wasmHasher(
  module: WebAssembly.Module,
  rowBytes: number,
  blockRows: number,
  spec: NonFiniteSpec | null,
): Hasher {
  // Layout: folded lanes of one block (16 bytes per row), the non-finite
  // check's mask and threshold (64 bytes) and row flags (a byte per row), the
  // two buffers handed out for reading into, and a staging area for blocks
  // that arrive elsewhere (not one of the two: a read may be in flight into
  // those). Every area starts at a multiple of 64 bytes.
  const laneBytes = Math.ceil((blockRows * 16) / 64) * 64;
  const specAt = laneBytes;
  const flagsAt = specAt + 64;
  const flagBytes = Math.ceil(blockRows / 64) * 64;
  const bufAt = flagsAt + flagBytes;
  const bufBytes = blockRows * rowBytes;
  const total = bufAt + 3 * bufBytes;
  if (total > 2 ** 31) {
    throw new BlackHoleError(
      `block of ${blockRows} rows x ${rowBytes} bytes is too large`,
    );
  }
  const memory = new WebAssembly.Memory({
    initial: Math.max(1, Math.ceil(total / 65536)),
  });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fn = instance.exports[
    spec === null ? "hash" : "hashCheck"
  ] as KernelFunction;
  // The memory never grows, so these views stay valid.
  const lanes = new Uint32Array(memory.buffer, 0, blockRows * 4);
  const heap = new Uint8Array(memory.buffer);
  const rowFlags = heap.subarray(flagsAt, flagsAt + blockRows);
  const buf0 = new Uint8Array(memory.buffer, bufAt, bufBytes);
  const buf1 = new Uint8Array(memory.buffer, bufAt + bufBytes, bufBytes);
  const staging = bufAt + 2 * bufBytes;
  if (spec !== null) {
    // Mask: 0x7fff on the u16 lane holding each element's top 16 bits (the
    // last of its size / 2 lanes), 0 on the others; threshold in every lane.
    const words = new Uint16Array(memory.buffer, specAt, 16);
    const per = spec.size / 2;
    for (let i = 0; i < 8; i++) {
      words[i] = i % per === per - 1 ? 0x7fff : 0;
      words[8 + i] = spec.threshold;
    }
  }
  const finish = (
    n: number,
    keys: Float64Array,
    tags: Int32Array,
    firstRow: number,
  ) => {
    for (let i = 0, q = 0; i < n; i++, q += 4) {
      const c0 = lanes[q],
        c1 = lanes[q + 1],
        c2 = lanes[q + 2],
        c3 = lanes[q + 3];
      const hi = keyHigh(c0, c1, c2, c3, rowBytes);
      keys[firstRow + i] = hi * 2097152 + (keyLow(c0, c1, c2, c3) >>> 11);
      tags[firstRow + i] = hi;
    }
  };
  return {
    buffers: [buf0, buf1],
    hash(block, keys, tags, firstRow, flags) {
      const rows = block.length / rowBytes;
      for (let done = 0; done < rows;) {
        const n = Math.min(blockRows, rows - done);
        const part = block.subarray(done * rowBytes, (done + n) * rowBytes);
        let ptr: number;
        if (part.buffer === memory.buffer) {
          ptr = part.byteOffset; // read straight into our memory: no copy
        } else {
          heap.set(part, staging);
          ptr = staging;
        }
        fn(ptr, rowBytes, n, 0, flagsAt, specAt);
        finish(n, keys, tags, firstRow + done);
        if (spec !== null && flags !== null) {
          flags.set(rowFlags.subarray(0, n), firstRow + done);
        }
        done += n;
      }
    },
  };
}
