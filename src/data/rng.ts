/**
 * PCG32, the seeded pseudo-random generator behind every random number horizon
 * uses on the host (initial weights, batch order, noise).
 *
 * This is the `pcg32` of M. E. O'Neill's pcg-c-basic (PCG-XSH-RR with 64-bit
 * state and a selectable odd increment, the "stream"), draw for draw: the same
 * `(initstate, initseq)` gives the same 32-bit numbers as
 * `pcg32_srandom_r(&rng, initstate, initseq)` / `pcg32_random_r(&rng)` in C,
 * and {@linkcode Pcg32.nextBelow} equals `pcg32_boundedrand_r`. So a run can be
 * replayed outside horizon (e.g. in PyTorch) from its seed alone.
 *
 * The 64-bit state lives in two unsigned 32-bit halves and is multiplied with
 * exact float64 partial products rather than BigInt: the generator runs
 * millions of times per experiment and BigInt arithmetic allocates.
 *
 * @module
 */

import type { NormalSource } from "../model/init.ts";

// 6364136223846793005 = 0x5851F42D_4C957F2D, the PCG 64-bit LCG multiplier,
// split into 32-bit halves and the low half again into 16-bit halves for the
// exact 32 x 32 -> 64 bit product.
const MUL_HI = 0x5851f42d;
const MUL_LO = 0x4c957f2d;
const MUL_LO_0 = MUL_LO & 0xffff;
const MUL_LO_1 = MUL_LO >>> 16;

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;
const MASK_64 = (1n << 64n) - 1n;

/**
 * Stream ids of the independent random sequences one experiment seed drives.
 * Each consumer draws from its own stream so that, e.g., changing the batch
 * size does not change the initial weights or the noise.
 */
export const Stream = {
  /** Initial parameters. */
  init: 1,
  /** Batch order (window permutations). */
  sampler: 2,
  /** Per-step synthetic noise (seed 11.2b). */
  noise: 3,
  /** Per-step uniforms of stochastic rounding (issue 20, 11.3a). */
  rounding: 4,
  /** Per-step dropout masks (issue 20, 11.3b). */
  dropout: 5,
} as const;

/** A non-negative integer below 2^64, as a safe-integer number or a bigint. */
export type U64 = number | bigint;

function toU64(value: U64, what: string): bigint {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(
        `${what} must be a non-negative safe integer or a bigint, got ${value}`,
      );
    }
    return BigInt(value);
  }
  if (typeof value !== "bigint" || value < 0n || value > MASK_64) {
    throw new RangeError(`${what} must be in 0..2^64-1, got ${value}`);
  }
  return value;
}

// Declared in model/init.ts (which consumes it) and re-exported here, so the
// generator, the initialiser and the noise share one public type.
export type { NormalSource };

/** A {@linkcode Pcg32}'s position, JSON-safe (see `snapshot()`). */
export interface Pcg32Snapshot {
  /** The seed (`initstate`), as a decimal string (it may exceed 2^53). */
  readonly seed: string;
  /** The stream id (`initseq`), as a decimal string. */
  readonly stream: string;
  /** High 32 bits of the 64-bit state, unsigned. */
  readonly hi: number;
  /** Low 32 bits of the 64-bit state, unsigned. */
  readonly lo: number;
  /** The cached second Box-Muller draw; null when none is waiting. */
  readonly spare: number | null;
}

/**
 * A PCG32 generator (pcg-c-basic compatible).
 *
 * @example Reproducing the pcg-c-basic demo
 * ```ts
 * import { Pcg32 } from "./rng.ts";
 * const rng = new Pcg32(42, 54);
 * console.log(rng.nextUint32().toString(16)); // "a15c02b7"
 * const noise = rng.fork(3); // same seed, stream 3
 * console.log(noise.normal());
 * ```
 */
export class Pcg32 implements NormalSource {
  /** The `initstate` this generator was seeded with. */
  readonly seed: bigint;
  /** The `initseq` (stream id) this generator was seeded with. */
  readonly stream: bigint;

  #hi = 0;
  #lo = 0;
  #incHi = 0;
  #incLo = 0;
  // The second Box-Muller value, waiting to be returned; NaN when none is.
  #spare = Number.NaN;

  /**
   * Seeds like `pcg32_srandom_r(rng, seed, stream)`: `inc = (stream << 1) | 1`
   * (so streams `s` and `s + 2^63` coincide), `state = 0`, one step,
   * `state += seed`, one step.
   */
  constructor(seed: U64 = 0, stream: U64 = 0) {
    this.seed = toU64(seed, "seed");
    this.stream = toU64(stream, "stream");
    const inc = ((this.stream << 1n) | 1n) & MASK_64;
    this.#incHi = Number(inc >> 32n);
    this.#incLo = Number(inc & 0xffffffffn);
    this.nextUint32();
    const state = (this.getState().state + this.seed) & MASK_64;
    this.#hi = Number(state >> 32n);
    this.#lo = Number(state & 0xffffffffn);
    this.nextUint32();
  }

  /**
   * The raw state and increment, as pcg-c-basic holds them (for logs and
   * cross-checks; restore a generator with {@linkcode Pcg32.clone}).
   */
  getState(): { state: bigint; inc: bigint } {
    return {
      state: (BigInt(this.#hi) << 32n) | BigInt(this.#lo),
      inc: (BigInt(this.#incHi) << 32n) | BigInt(this.#incLo),
    };
  }

  /**
   * The position as plain numbers (JSON-safe), for checkpoints; restore it
   * with {@linkcode Pcg32.restore}. `spare` is the cached Box-Muller value
   * (NaN, written null, when none is waiting).
   */
  snapshot(): Pcg32Snapshot {
    return {
      seed: this.seed.toString(),
      stream: this.stream.toString(),
      hi: this.#hi,
      lo: this.#lo,
      spare: Number.isNaN(this.#spare) ? null : this.#spare,
    };
  }

  /** A generator at a position taken by {@linkcode Pcg32.snapshot}. */
  static restore(s: Pcg32Snapshot): Pcg32 {
    const c = new Pcg32(BigInt(s.seed), BigInt(s.stream));
    c.#hi = s.hi >>> 0;
    c.#lo = s.lo >>> 0;
    c.#spare = s.spare === null ? Number.NaN : s.spare;
    return c;
  }

  /** An independent copy at the same position (cached normal included). */
  clone(): Pcg32 {
    const c = new Pcg32(this.seed, this.stream);
    c.#hi = this.#hi;
    c.#lo = this.#lo;
    c.#spare = this.#spare;
    return c;
  }

  /**
   * A fresh generator on another stream of the same seed: `new Pcg32(seed,
   * streamId)`. It starts at the beginning of that stream, whatever this
   * generator has drawn. See {@linkcode Stream} for the ids horizon uses.
   */
  fork(streamId: U64): Pcg32 {
    return new Pcg32(this.seed, streamId);
  }

  /** The next 32-bit output, an integer in [0, 2^32) (`pcg32_random_r`). */
  nextUint32(): number {
    const hi = this.#hi;
    const lo = this.#lo;

    // state = state * MUL + inc  (mod 2^64).
    // lo * MUL_LO exactly, from 16 x 32 bit partial products (< 2^49 each).
    const lo0 = lo & 0xffff;
    const lo1 = lo >>> 16;
    const mid = lo0 * MUL_LO_1 + lo1 * MUL_LO_0; // < 2^33
    const low = lo0 * MUL_LO_0 + (mid % 65536) * 65536; // < 2^33
    const lowWord = low >>> 0;
    let high = lo1 * MUL_LO_1 + Math.floor(mid / 65536) +
      (low - lowWord) / TWO_32;
    // Cross terms only reach the high word, so their low 32 bits suffice.
    high += Math.imul(hi, MUL_LO) + Math.imul(lo, MUL_HI);
    const sumLo = lowWord + this.#incLo;
    this.#lo = sumLo >>> 0;
    this.#hi = (high + this.#incHi + (sumLo >= TWO_32 ? 1 : 0)) >>> 0;

    // XSH-RR output of the old state: xorshifted = ((old >> 18) ^ old) >> 27
    // truncated to 32 bits, rotated right by old >> 59.
    const xorshifted = ((lo >>> 27) | (hi << 5)) ^ (hi >>> 13);
    const rot = hi >>> 27;
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  }

  /**
   * Fills `out` with the next 32-bit outputs, draw for draw what as many
   * {@linkcode Pcg32.nextUint32} calls return (fill part of an array through
   * a `subarray`). The per-step streams (dropout masks, stochastic-rounding
   * uniforms) draw millions of numbers a step; this loop keeps the state in
   * locals, about twice as fast as a call per number.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pcg32 } from "./rng.ts";
   * const bulk = new Pcg32(42, 54).fillUint32(new Uint32Array(3));
   * const one = new Pcg32(42, 54);
   * assert.deepEqual([...bulk], [one.nextUint32(), one.nextUint32(), one.nextUint32()]);
   * ```
   */
  fillUint32(out: Uint32Array): Uint32Array {
    let hi = this.#hi;
    let lo = this.#lo;
    const incHi = this.#incHi;
    const incLo = this.#incLo;
    for (let i = 0; i < out.length; i++) {
      // Output of the old state, as in nextUint32.
      const xorshifted = ((lo >>> 27) | (hi << 5)) ^ (hi >>> 13);
      const rot = hi >>> 27;
      out[i] = (xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31));
      // state = state * MUL + inc (mod 2^64), the high word of lo * MUL_LO
      // from exact 16 x 16 bit partial products.
      const lo0 = lo & 0xffff;
      const lo1 = lo >>> 16;
      const mid = lo0 * MUL_LO_1 + lo1 * MUL_LO_0 + ((lo0 * MUL_LO_0) >>> 16);
      const sumLo = (Math.imul(lo, MUL_LO) >>> 0) + incLo;
      hi = (lo1 * MUL_LO_1 + ((mid / 65536) | 0) + Math.imul(hi, MUL_LO) +
        Math.imul(lo, MUL_HI) + incHi + (sumLo >= TWO_32 ? 1 : 0)) >>> 0;
      lo = sumLo >>> 0;
    }
    this.#hi = hi;
    this.#lo = lo;
    return out;
  }

  /**
   * A uniform integer in [0, n), without modulo bias, for integer
   * 1 <= n <= 2^32. For n < 2^32 this is `pcg32_boundedrand_r`: draws below
   * `2^32 mod n` are rejected (at most n/2^32 of them), the rest taken mod n.
   * n = 2^32 returns a plain draw.
   */
  nextBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
      throw new RangeError(`nextBelow(n) needs an integer 1..2^32, got ${n}`);
    }
    if (n === TWO_32) return this.nextUint32();
    const threshold = (TWO_32 - n) % n;
    for (;;) {
      const r = this.nextUint32();
      if (r >= threshold) return r % n;
    }
  }

  /**
   * A uniform float64 in [0, 1) with 53 random bits, from two draws: the first
   * gives the high 27 bits, the second the low 26, `((a >>> 5) * 2^26 +
   * (b >>> 6)) / 2^53` (the `genrand_res53` construction of MT19937).
   */
  nextFloat64(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / TWO_53;
  }

  /**
   * A standard normal draw, Box-Muller in float64: with u1 = 1 -
   * nextFloat64() in (0, 1] (so log(u1) is finite) and u2 = nextFloat64(),
   * r = sqrt(-2 ln u1), the pair is (r cos 2 pi u2, r sin 2 pi u2). The first
   * is returned, the second cached and returned by the next call (four 32-bit
   * draws per two normals). Float64 results may differ from another libm in
   * the last bit; round to float32 before they become model inputs.
   */
  normal(): number {
    const spare = this.#spare;
    if (spare === spare) { // not NaN: a cached value is waiting
      this.#spare = Number.NaN;
      return spare;
    }
    const u1 = 1 - this.nextFloat64();
    const u2 = this.nextFloat64();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.#spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}
