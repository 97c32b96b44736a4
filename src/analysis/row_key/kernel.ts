/**
 * The SIMD row-hash kernel, compiled once from its committed bytes
 * (`kernel_wasm.ts`, built from `kernel.wat`).
 *
 * For rows whose length is a multiple of 64 bytes (every real embedding) it
 * computes the lanes of `hashRowBytes` (row_hash.ts) at ~25 GB/s on one core for
 * data in cache, several times the JavaScript loop. Measured on 151,936 rows
 * x 4,096 bytes: the kernel 249 ms, the JavaScript loop 698 ms, and the
 * packages `xxhash-wasm` 633 ms and `hash-wasm` (xxh3) 586 ms, which is why
 * the kernel is kept rather than replaced by one of them.
 *
 * @module
 */

import { KERNEL_WASM_BASE64 } from "./kernel_wasm.ts";

/**
 * The kernel's exports: `hash(src, rowBytes, rows, out, flags, spec)` and
 * `hashCheck` with the same parameters (see kernel.wat).
 */
export type KernelFunction = (
  src: number,
  rowBytes: number,
  rows: number,
  out: number,
  flags: number,
  spec: number,
) => void;

/**
 * The kernel's bytes, decoded from `kernel_wasm.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelBytes } from "./kernel.ts";
 * assert.deepEqual([...kernelBytes().subarray(0, 4)], [0, 0x61, 0x73, 0x6d]);
 * ```
 */
export function kernelBytes(): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(KERNEL_WASM_BASE64), (c) => c.charCodeAt(0));
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled kernel, or null where WebAssembly SIMD is unavailable.
 * Compiled on first use, then shared.
 */
export function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(kernelBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * Whether the WebAssembly SIMD row-hash kernel can run here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmHashAvailable } from "./kernel.ts";
 * assert.equal(wasmHashAvailable(), true); // in Deno
 * ```
 */
export function wasmHashAvailable(): boolean {
  return kernelModule() !== null;
}
