/**
 * Row keys by engine: the SIMD kernel (`src/analysis/row_key/kernel.wat`)
 * against the JavaScript loop that computes the same keys, with and without
 * the non-finite check, next to a plain pass over the same bytes. Run with
 * `deno bench -A bench/`.
 *
 * What is timed is what the census does per block once it has read it: one
 * 1 MiB block (`DEFAULT_BLOCK_BYTES`: 256 rows of 4,096 bytes, a 2,048-column
 * BF16 embedding), already in the hasher's buffer, hashed into keys. A whole
 * 151,936-row matrix is 594 such blocks (measured on it: kernel ~249 ms,
 * JavaScript ~698 ms).
 *
 * @module
 */

import {
  type Hasher,
  jsHasher,
  wasmHasher,
} from "../src/analysis/row_key/hasher.ts";
import { kernelModule } from "../src/analysis/row_key/kernel.ts";
import { nonFiniteSpec } from "../src/analysis/row_key/non_finite.ts";
import { hashRowBytes } from "../src/analysis/row_key/row_hash.ts";
import { DEFAULT_BLOCK_BYTES } from "../src/census/scan.ts";
import { Pcg32 } from "../src/data/rng.ts";

const ROW_BYTES = 4096;
const ROWS = DEFAULT_BLOCK_BYTES / ROW_BYTES;

const keys = new Float64Array(ROWS);
const tags = new Int32Array(ROWS);
const flags = new Uint8Array(ROWS);

/** A hasher with one block of finite BF16 rows in its first buffer. */
function prepared(hasher: Hasher): Uint8Array {
  const block = hasher.buffers[0].subarray(0, ROWS * ROW_BYTES);
  const words = new Uint32Array(
    block.buffer,
    block.byteOffset,
    block.length / 4,
  );
  const rng = new Pcg32(1);
  // Exponents below all ones: finite values, as in an embedding.
  for (let i = 0; i < words.length; i++) {
    words[i] = rng.nextUint32() & 0xbfffbfff;
  }
  return block;
}

const bf16 = nonFiniteSpec("BF16", ROW_BYTES);
const engines: [string, Hasher, boolean][] = [
  ["SIMD kernel", wasmHasher(kernelModule()!, ROW_BYTES, ROWS, null), false],
  [
    "SIMD kernel + non-finite check (BF16)",
    wasmHasher(kernelModule()!, ROW_BYTES, ROWS, bf16),
    true,
  ],
  [
    "JavaScript loop",
    jsHasher(ROW_BYTES, ROWS, hashRowBytes, false, null),
    false,
  ],
  [
    "JavaScript loop + non-finite check (BF16)",
    jsHasher(ROW_BYTES, ROWS, hashRowBytes, false, bf16),
    true,
  ],
];

const plain = prepared(engines[0][1]);
Deno.bench("plain pass: xor of every 32-bit word", {
  group: "row keys of 1 MiB",
}, () => {
  const words = new Int32Array(
    plain.buffer,
    plain.byteOffset,
    plain.length / 4,
  );
  let x = 0;
  for (let i = 0; i < words.length; i++) x ^= words[i];
  if (x === 0x7fffffff) throw new Error("unlikely");
});

for (const [name, hasher, check] of engines) {
  const block = prepared(hasher);
  Deno.bench(name, {
    group: "row keys of 1 MiB",
    baseline: name === "SIMD kernel",
  }, () => {
    hasher.hash(block, keys, tags, 0, check ? flags : null);
  });
}
