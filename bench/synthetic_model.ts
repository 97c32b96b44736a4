/**
 * The census benchmark's input: a synthetic BF16 embedding written as a
 * `.safetensors` file, with planted clusters whose rows are known, so that
 * the benchmark can check that the census found exactly them.
 *
 * @module
 */

import { createSafetensorsStreamWriter } from "../src/io/safetensors/mod.ts";
import { Pcg32 } from "../src/data/rng.ts";

/** The name the census looks for first (Llama, Qwen2/3, Mistral, Gemma). */
export const SYNTHETIC_TENSOR = "model.embed_tokens.weight";

/**
 * Fills `words` with pairs of bf16 values of embedding-like magnitude
 * (|x| in [2^-10, 2^-2)): random sign and mantissa, exponent 117..124.
 * No NaN or infinity, and random rows are distinct with overwhelming
 * probability (so only planted rows cluster; checked after the census).
 */
function fillBf16(words: Uint32Array, rng: Pcg32): void {
  for (let i = 0; i < words.length; i++) {
    const r = rng.nextUint32();
    const eLo = 117 + ((r >>> 7) & 7);
    const eHi = 117 + ((r >>> 23) & 7);
    words[i] = ((r & 0x807f807f) | (eLo << 7) | (eHi << 23)) >>> 0;
  }
}

/**
 * Planted clusters: 60 clusters holding 2,152 rows, like the public notes
 * on Qwen2.5-3B (a matrix needs at least 4,304 rows). One cluster is a run
 * of rows at the end (like a padded vocabulary); the others, of 2..60 rows,
 * are scattered over the matrix. Each cluster's rows ascending.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pcg32 } from "../src/data/rng.ts";
 * import { plantClusters } from "./synthetic_model.ts";
 * const clusters = plantClusters(151_936, new Pcg32(1));
 * assert.equal(clusters.length, 60);
 * assert.equal(clusters.flat().length, 2_152);
 * assert.equal(new Set(clusters.flat()).size, 2_152); // no row in two
 * ```
 */
export function plantClusters(rows: number, rng: Pcg32): number[][] {
  const sizes: number[] = [];
  for (let i = 1; i <= 59; i++) sizes.push(2 + ((i * 37) % 59)); // sums to 1,829
  const tail = Math.max(2, Math.min(323, Math.floor(rows / 4)));
  const scattered = sizes.reduce((a, b) => a + b, 0);
  if (tail + scattered > rows / 2) {
    throw new RangeError(
      `need at least ${2 * (tail + scattered)} rows to plant clusters`,
    );
  }
  const clusters: number[][] = [
    Array.from({ length: tail }, (_, k) => rows - tail + k),
  ];
  // Scattered members: distinct rows from the head, by rejection sampling.
  const taken = new Uint8Array(rows - tail);
  for (const size of sizes) {
    const members: number[] = [];
    while (members.length < size) {
      const r = rng.nextBelow(rows - tail);
      if (taken[r] === 0) {
        taken[r] = 1;
        members.push(r);
      }
    }
    clusters.push(members.sort((a, b) => a - b));
  }
  return clusters;
}

/**
 * Writes a BF16 `[rows, cols]` matrix of random embedding-like values with
 * {@linkcode plantClusters}'s clusters (each cluster's rows share one random
 * row) to `path` as {@linkcode SYNTHETIC_TENSOR}, in 16 MiB appends; returns
 * the clusters. The same `seed` writes the same file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCensus } from "../src/census/census.ts";
 * import { writeSyntheticModel } from "./synthetic_model.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const path = `${dir}/model.safetensors`;
 *   const planted = await writeSyntheticModel(path, 8192, 64, 1);
 *   const report = await runCensus(path, { tokenizer: false });
 *   assert.equal(report.tensors[0].C, planted.length);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeSyntheticModel(
  path: string,
  rows: number,
  cols: number,
  seed: number,
): Promise<number[][]> {
  const rowBytes = cols * 2;
  if (rowBytes % 4 !== 0) throw new RangeError("cols must be even");
  const rng = new Pcg32(seed);
  const clusters = plantClusters(rows, rng);
  const clusterOf = new Int32Array(rows).fill(-1);
  clusters.forEach((members, c) => members.forEach((r) => (clusterOf[r] = c)));
  const reps = clusters.map(() => {
    const w = new Uint32Array(rowBytes / 4);
    fillBf16(w, rng);
    return new Uint8Array(w.buffer);
  });

  const writer = await createSafetensorsStreamWriter(path, {
    tensors: [{ name: SYNTHETIC_TENSOR, dtype: "BF16", shape: [rows, cols] }],
    metadata: { format: "pt", note: "horizon census benchmark (synthetic)" },
  });
  try {
    const blockRows = Math.max(1, Math.floor((16 << 20) / rowBytes));
    const block = new Uint8Array(blockRows * rowBytes);
    const words = new Uint32Array(block.buffer);
    for (let start = 0; start < rows; start += blockRows) {
      const n = Math.min(blockRows, rows - start);
      fillBf16(words.subarray(0, (n * rowBytes) / 4), rng);
      for (let k = 0; k < n; k++) {
        const c = clusterOf[start + k];
        if (c >= 0) block.set(reps[c], k * rowBytes);
      }
      await writer.append(SYNTHETIC_TENSOR, block.subarray(0, n * rowBytes));
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return clusters;
}

/** What both census benchmarks take: the synthetic matrix and where it goes. */
export interface SyntheticBenchOptions {
  /** Rows of the synthetic matrix; default 151,936. */
  rows?: number;
  /** Columns; default 2,048. */
  cols?: number;
  /** Timed repetitions (see each benchmark for what one is). */
  repeat?: number;
  /** Folder for the temporary files; default the system temp folder. */
  dir?: string;
  /** PRNG seed of the synthetic values. */
  seed?: number;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

/** {@link SyntheticBenchOptions} with the defaults filled in. */
export interface SyntheticBenchSetup {
  readonly rows: number;
  readonly cols: number;
  readonly repeat: number;
  readonly seed: number;
  readonly log: (line: string) => void;
  /** A new temporary folder, removed when the benchmark ends. */
  readonly dir: string;
}

/**
 * Runs `bench` with the options' defaults (Qwen2.5-3B's 151,936 x 2,048,
 * seed 1, the benchmark's own `defaultRepeat`) in a new temporary folder
 * named `prefix...` under `options.dir`, removed afterwards whatever happens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withSyntheticBench } from "./synthetic_model.ts";
 * const options = { cols: 8, prefix: "h_", defaultRepeat: 3 };
 * const seen = await withSyntheticBench(options, async (s) => {
 *   assert.equal((await Deno.stat(s.dir)).isDirectory, true);
 *   return [s.rows, s.cols, s.repeat, s.dir] as const;
 * });
 * assert.deepEqual(seen.slice(0, 3), [151_936, 8, 3]);
 * await assert.rejects(Deno.stat(seen[3]), Deno.errors.NotFound);
 * ```
 */
export async function withSyntheticBench<T>(
  options: SyntheticBenchOptions & {
    readonly prefix: string;
    readonly defaultRepeat: number;
  },
  bench: (setup: SyntheticBenchSetup) => Promise<T>,
): Promise<T> {
  const { prefix, defaultRepeat } = options;
  const dir = await Deno.makeTempDir({ dir: options.dir, prefix });
  try {
    return await bench({
      rows: options.rows ?? 151_936,
      cols: options.cols ?? 2_048,
      repeat: options.repeat ?? defaultRepeat,
      seed: options.seed ?? 1,
      log: options.log ?? (() => {}),
      dir,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
