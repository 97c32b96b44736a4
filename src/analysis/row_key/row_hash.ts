/**
 * The row key: a 53-bit hash of a row's stored bytes, under which rows are
 * grouped before their bytes are compared.
 *
 * Sixteen independent 32-bit lanes: lane j takes words j, j + 16, j + 32,
 * ... of the row (little-endian; a partial last word is zero-padded) through
 *
 *     x = imul(lane ^ word, MULTS[j]);  lane = x ^ (x >>> 15)
 *
 * Every step is a bijection of the lane (odd multiplier, invertible
 * xorshift), so rows differing in a single word always differ in that lane;
 * the xorshift feeds high bits back down, so differences in high bits (signs)
 * do not simply cancel. Lanes are folded to four,
 *
 *     c_i = l_i ^ rotl(l_{4+i}, 8) ^ rotl(l_{8+i}, 16) ^ rotl(l_{12+i}, 24),
 *
 * again a bijection of each lane, and then to a 53-bit key whose high 32 bits
 * are a bijection of each c_i. Independent lanes let the CPU run the
 * multiplies in parallel; the SIMD kernel (`kernel.wat`, which repeats
 * `MULTS` and `SEEDS`) holds them as four i32x4 vectors and leaves the last
 * step, {@linkcode keyHigh} and {@linkcode keyLow}, to JavaScript.
 *
 * The keys are part of no output, but equal rows must get equal keys
 * wherever they are hashed, and the engines must agree: the tests compare
 * them row by row.
 *
 * @module
 */

/**
 * A row hash: maps the `length` bytes at `offset` of `view` to a key that is a
 * non-negative safe integer. Equal bytes must give equal keys; unequal bytes
 * may collide (collisions are resolved by byte comparison).
 */
export type RowHash = (
  view: DataView,
  offset: number,
  length: number,
) => number;

/** Odd multipliers (so each step is invertible), lane j = MULTS[j]. */
const MULTS = [
  0x9e3779b1,
  0x85ebca77,
  0xc2b2ae3d,
  0x27d4eb2f,
  0x165667b1,
  0xd3a2646d,
  0xfd7046c5,
  0xb55a4f09,
  0x2c1b3c6d,
  0x297a2d39,
  0x68e31da5,
  0x1b873593,
  0xcc9e2d51,
  0xe6546b65,
  0x7feb352d,
  0x846ca68b,
];

/** Initial lane values. */
const SEEDS = MULTS.map((_, j) => Math.imul(0x9e3779b9, j + 1) >>> 0);

/**
 * fmix32 of MurmurHash3: makes every input bit affect every output bit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fmix32 } from "./row_hash.ts";
 * assert.equal(fmix32(0), 0);
 * assert.notEqual(fmix32(1), fmix32(2));
 * ```
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** One lane step. */
function mix(lane: number, word: number, mult: number): number {
  const x = Math.imul(lane ^ word, mult);
  return x ^ (x >>> 15);
}

/**
 * High 32 bits of the key from the four folded lanes and the row length: a
 * bijection of each folded lane.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyHigh } from "./row_hash.ts";
 * assert.notEqual(keyHigh(1, 2, 3, 4, 64), keyHigh(1, 2, 3, 5, 64));
 * ```
 */
export function keyHigh(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  length: number,
): number {
  return fmix32((c0 ^ rotl(c1, 8) ^ rotl(c2, 16) ^ rotl(c3, 24)) + length);
}

/**
 * Source of the low 21 bits of the key (its top 21 bits are used).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyLow } from "./row_hash.ts";
 * assert.notEqual(keyLow(1, 2, 3, 4) >>> 11, keyLow(1, 2, 4, 4) >>> 11);
 * ```
 */
export function keyLow(c0: number, c1: number, c2: number, c3: number): number {
  return fmix32(
    (Math.imul(c0, 0x2c1b3c6d) + c1) ^ (Math.imul(c2, 0x297a2d39) + c3),
  );
}

/** The 53-bit key from the four folded lanes and the row length. */
function finalKey(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  length: number,
): number {
  return keyHigh(c0, c1, c2, c3, length) * 2097152 +
    (keyLow(c0, c1, c2, c3) >>> 11);
}

/** Reused by {@linkcode hashRowBytes}: no allocation per row. */
const scratchLanes = new Int32Array(16);

/**
 * The default row hash (defined in this module's documentation): a 53-bit
 * key over the row's bytes, equal for equal bytes wherever they sit, and
 * always different for rows that differ in a single 32-bit word. Not
 * cryptographic; it only has to make false candidates rare.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashRowBytes } from "./row_hash.ts";
 * const a = new Uint8Array([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 6]);
 * const v = new DataView(a.buffer);
 * assert.equal(hashRowBytes(v, 0, 5), hashRowBytes(v, 5, 5)); // same bytes
 * assert.notEqual(hashRowBytes(v, 0, 5), hashRowBytes(v, 10, 5));
 * ```
 */
export function hashRowBytes(
  view: DataView,
  offset: number,
  length: number,
): number {
  const l = scratchLanes;
  l.set(SEEDS);
  const end = offset + length;
  for (let i = offset, j = 0; i < end; i += 4, j = (j + 1) & 15) {
    let w = 0;
    if (i + 4 <= end) {
      w = view.getUint32(i, true);
    } else {
      for (let k = 0; i + k < end; k++) w |= view.getUint8(i + k) << (8 * k);
    }
    l[j] = mix(l[j], w, MULTS[j]);
  }
  return finalKey(
    l[0] ^ rotl(l[4], 8) ^ rotl(l[8], 16) ^ rotl(l[12], 24),
    l[1] ^ rotl(l[5], 8) ^ rotl(l[9], 16) ^ rotl(l[13], 24),
    l[2] ^ rotl(l[6], 8) ^ rotl(l[10], 16) ^ rotl(l[14], 24),
    l[3] ^ rotl(l[7], 8) ^ rotl(l[11], 16) ^ rotl(l[15], 24),
    length,
  );
}
