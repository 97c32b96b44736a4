/**
 * Batch order and batch contents for training on every window of a corpus.
 *
 * A corpus of N bytes has `windows = N - context` windows, one at every
 * offset o, each the `context + 1` bytes `bytes[o .. o + context]`. Like the
 * Hugging Face Trainer's `RandomSampler`, an epoch visits the window offsets
 * in a seeded random permutation (Fisher-Yates), and batches take consecutive
 * runs of that permutation. When an epoch is used up the next epoch draws a
 * fresh permutation from the same PRNG stream.
 *
 * Difference from the Trainer: it keeps the last, short batch of an epoch
 * (`drop_last=False`); horizon drops it, so every batch has exactly
 * `batchSize` windows (one fixed-shape training graph) and no batch straddles
 * two epochs. With the seeds' corpus (265,777 windows, batch 32) an epoch is
 * 8,305 batches instead of 8,306, and 17 windows per epoch (different ones
 * each epoch) are not seen in that epoch. The permutations themselves are
 * horizon's (PCG32), not torch's, so batch contents differ from the seeds'
 * anyway; only the sampling scheme is reproduced.
 *
 * {@linkcode makeBatch} turns window offsets into model inputs, targets and
 * loss weights for the two objectives horizon knows.
 *
 * @module
 */

import { Pcg32, Stream, type U64 } from "./rng.ts";

/** A sampler or batch cannot be made as asked. */
export class SamplerError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "SamplerError";
  }
}

/** A source of uniform integers in [0, n), e.g. {@linkcode Pcg32}. */
export interface BoundedSource {
  /** A uniform integer in [0, n). */
  nextBelow(n: number): number;
}

/**
 * Shuffles `a` in place with the Fisher-Yates (Durstenfeld) algorithm in the
 * order of pcg-c-basic's demo deal: for i = n down to 2, swap `a[i - 1]` with
 * `a[rng.nextBelow(i)]`. n - 1 bounded draws; every permutation is equally
 * likely given a uniform source.
 *
 * @example
 * ```ts
 * import { Pcg32 } from "./rng.ts";
 * import { shuffleInPlace } from "./sampler.ts";
 * const a = Int32Array.from([0, 1, 2, 3, 4]);
 * shuffleInPlace(new Pcg32(1, 2), a);
 * console.log(a.slice().sort()); // Int32Array [0, 1, 2, 3, 4]
 * ```
 */
export function shuffleInPlace(
  rng: BoundedSource,
  a: { length: number; [i: number]: number },
): void {
  for (let i = a.length; i > 1; i--) {
    const j = rng.nextBelow(i);
    const t = a[j];
    a[j] = a[i - 1];
    a[i - 1] = t;
  }
}

/** Options of {@linkcode createSampler}. */
export interface SamplerOptions {
  /** Number of window offsets, `corpusLength - context`. */
  windows: number;
  /** Windows per batch. */
  batchSize: number;
  /** Experiment seed. */
  seed: U64;
  /** PCG32 stream of the batch order; default {@linkcode Stream.sampler}. */
  stream?: U64;
}

/** A deterministic, replayable sequence of batches of window offsets. */
export interface Sampler {
  /** Number of window offsets sampled from. */
  readonly windows: number;
  /** Windows per batch. */
  readonly batchSize: number;
  /** Full batches per epoch, `floor(windows / batchSize)`. */
  readonly batchesPerEpoch: number;
  /** Windows left out of each epoch, `windows % batchSize`. */
  readonly droppedPerEpoch: number;
  /** The step whose batch the next {@linkcode Sampler.next} call returns. */
  readonly step: number;
  /** The batch of the current step, then advances the step by one. */
  next(): Int32Array;
  /**
   * The batch of any step (0-based), independent of the current position:
   * `batchAt(s)` is what the (s+1)-th `next()` call from the start returns.
   */
  batchAt(step: number): Int32Array;
  /** The whole permutation of window offsets used in an epoch (a copy). */
  epochOrder(epoch: number): Int32Array;
  /** Moves the position so that the next `next()` returns `batchAt(step)`. */
  seek(step: number): void;
}

function checkCount(name: string, v: number, min: number): void {
  // Offsets travel as int32 into the graph, so they must fit one.
  if (!Number.isInteger(v) || v < min || v > 0x7fffffff) {
    throw new SamplerError(
      `${name} must be an integer in ${min}..2^31-1, got ${v}`,
    );
  }
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new SamplerError(`step must be a non-negative integer, got ${step}`);
  }
}

/**
 * A sampler over `windows` offsets: epoch e is the permutation drawn by
 * shuffling `[0, 1, ..., windows - 1]` with {@linkcode shuffleInPlace},
 * continuing the PRNG stream where epoch e - 1 stopped; batch k of the epoch
 * is `perm[k * batchSize .. (k + 1) * batchSize)`. Same options, same batches.
 *
 * @example Batches of 32 from the seeds' corpus
 * ```ts
 * import { createSampler } from "./sampler.ts";
 * const sampler = createSampler({ windows: 265_777, batchSize: 32, seed: 42 });
 * console.log(sampler.batchesPerEpoch, sampler.droppedPerEpoch); // 8305 17
 * const offsets = sampler.next(); // Int32Array of 32 window offsets
 * ```
 */
export function createSampler(opts: SamplerOptions): Sampler {
  const { windows, batchSize, seed } = opts;
  checkCount("windows", windows, 1);
  checkCount("batchSize", batchSize, 1);
  if (batchSize > windows) {
    throw new SamplerError(
      `batchSize ${batchSize} is larger than the number of windows ${windows}: ` +
        `no full batch can be formed`,
    );
  }
  const batchesPerEpoch = Math.floor(windows / batchSize);
  // PRNG state at the start of each epoch computed so far: epochs after the
  // first depend on how many draws the previous shuffles used (rejections in
  // nextBelow), so random access replays from the nearest known start.
  const epochStarts: Pcg32[] = [
    new Pcg32(seed, opts.stream ?? Stream.sampler),
  ];
  let cachedEpoch = -1;
  const perm = new Int32Array(windows);
  let position = 0;

  function permutation(epoch: number): Int32Array {
    if (epoch === cachedEpoch) return perm;
    let e = Math.min(epoch, epochStarts.length - 1);
    for (;;) {
      const rng = epochStarts[e].clone();
      for (let i = 0; i < windows; i++) perm[i] = i;
      shuffleInPlace(rng, perm);
      if (e + 1 === epochStarts.length) epochStarts.push(rng);
      if (e === epoch) break;
      e++;
    }
    cachedEpoch = epoch;
    return perm;
  }

  function batchAt(step: number): Int32Array {
    checkStep(step);
    const epoch = Math.floor(step / batchesPerEpoch);
    const k = step - epoch * batchesPerEpoch;
    return permutation(epoch).slice(k * batchSize, (k + 1) * batchSize);
  }

  return {
    windows,
    batchSize,
    batchesPerEpoch,
    droppedPerEpoch: windows - batchesPerEpoch * batchSize,
    get step() {
      return position;
    },
    next() {
      const b = batchAt(position);
      position++;
      return b;
    },
    batchAt,
    epochOrder(epoch: number) {
      checkStep(epoch);
      return permutation(epoch).slice();
    },
    seek(step: number) {
      checkStep(step);
      position = step;
    },
  };
}

/**
 * Which next byte the logits at position t are trained on.
 *
 * - `"next-token"`: `chunk[t + 1]`, the usual language-model objective.
 * - `"double-shift"`: `chunk[t + 2]`, what the seed notebooks really trained:
 *   they pass `labels = chunk[1 : T + 1]` to GPT2LMHeadModel, which shifts the
 *   labels once more inside its loss. The last position has no target, and
 *   transformers 4.57 still divides the summed loss by B * T.
 */
export type Objective = "double-shift" | "next-token";

/** One batch as flat row-major `[B, T]` arrays. */
export interface Batch {
  /** Input token ids, `chunk[0 .. T - 1]` per row. */
  inputIds: Int32Array;
  /** Target token id per position (0 where the weight is 0). */
  targets: Int32Array;
  /**
   * Loss weight per position; the loss is `sum(weights * CE(logits, target))`.
   * `1 / (B * T)` where a target exists, 0 elsewhere.
   */
  weights: Float32Array;
}

/**
 * Builds the model inputs, targets and loss weights for the windows at
 * `offsets`. Row b uses `chunk = bytes[o .. o + T]` (T + 1 bytes, o =
 * offsets[b], T = context): `inputIds = chunk[0 .. T-1]`; with
 * `"next-token"` `targets[t] = chunk[t + 1]` and every weight `1 / (B * T)`;
 * with `"double-shift"` `targets[t] = chunk[t + 2]` with weight `1 / (B * T)`
 * for t < T - 1, and position T - 1 has target 0 and weight 0.
 *
 * @example
 * ```ts
 * import { makeBatch } from "./sampler.ts";
 * const bytes = new TextEncoder().encode("abcdefgh");
 * const b = makeBatch(bytes, Int32Array.from([0, 2]), 3, "next-token");
 * console.log(String.fromCharCode(...b.inputIds)); // "abccde"
 * console.log(String.fromCharCode(...b.targets)); // "bcddef"
 * ```
 */
export function makeBatch(
  bytes: Uint8Array,
  offsets: Int32Array | readonly number[],
  context: number,
  objective: Objective,
): Batch {
  const B = offsets.length;
  const T = context;
  if (!Number.isInteger(T) || T < 1) {
    throw new SamplerError(`context must be a positive integer, got ${T}`);
  }
  if (objective !== "next-token" && objective !== "double-shift") {
    throw new SamplerError(
      `objective must be "double-shift" or "next-token", got ${
        JSON.stringify(objective)
      }`,
    );
  }
  if (objective === "double-shift" && T < 2) {
    throw new SamplerError(
      `the double-shift objective needs context >= 2, got ${T}`,
    );
  }
  if (B === 0) throw new SamplerError("a batch needs at least one offset");
  const maxOffset = bytes.length - T - 1;
  for (let b = 0; b < B; b++) {
    const o = offsets[b];
    if (!Number.isInteger(o) || o < 0 || o > maxOffset) {
      throw new SamplerError(
        `offset ${o} (row ${b}) is outside 0..${maxOffset}: a window needs ` +
          `context + 1 = ${T + 1} bytes of a corpus of ${bytes.length}`,
      );
    }
  }

  const inputIds = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const weights = new Float32Array(B * T);
  // Same divisor for both objectives: transformers 4.57 divides by the
  // number of labels B * T, not by the B * (T - 1) positions that have one.
  const w = 1 / (B * T);
  const shift = objective === "next-token" ? 1 : 2;
  const last = T - shift + 1; // first position without a target
  for (let b = 0; b < B; b++) {
    const o = offsets[b];
    const row = b * T;
    for (let t = 0; t < T; t++) inputIds[row + t] = bytes[o + t];
    for (let t = 0; t < last; t++) {
      targets[row + t] = bytes[o + t + shift];
      weights[row + t] = w;
    }
  }
  return { inputIds, targets, weights };
}
