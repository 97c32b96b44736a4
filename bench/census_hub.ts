/**
 * The census benchmark's hub case: the synthetic embedding served as one
 * shard of a hub-shaped model repo on 127.0.0.1, and the census run on the
 * repo's id, so that it reads by byte ranges over HTTP into an empty cache
 * (cold) and then again from that cache (warm).
 *
 * The repo is two shards, an index, `tokenizer.json` and `config.json`;
 * besides the embedding the shards hold two layer tensors of the
 * embedding's size (zeros, as holes of sparse files: they cost no disk),
 * which the census must not fetch. The server (`test_hub_server.ts`)
 * counts the bytes it sends; the benchmark compares them with what the
 * census needs: the shard headers, the embedding, the tokenizer and the
 * index. The server runs in the benchmark's process, so the seconds
 * include serving the bytes.
 *
 * @module
 */

import { runCensus } from "../src/census/census.ts";
import {
  type DiskFile,
  type HubFile,
  type HubServerStats,
  startTestHubServer,
} from "../src/census/hub/test_hub_server.ts";
import { openSafetensors } from "../src/io/safetensors/mod.ts";
import { encodeHeader, type TensorSpec } from "../src/io/safetensors/writer.ts";
import { distribution } from "../src/verdict/rates.ts";
import {
  type HubCensusBenchResult,
  type HubFetch,
  type HubNeeded,
  loadAverage,
} from "./census_format.ts";
import {
  SYNTHETIC_TENSOR,
  type SyntheticBenchOptions,
  withSyntheticBench,
  writeSyntheticModel,
} from "./synthetic_model.ts";
import { type FileRange, writeHeaderAndCopy } from "./census_copy.ts";

/** The repo id the benchmark serves. */
export const HUB_BENCH_REPO = "horizon-bench/synthetic-embedding";

const SHARDS = [
  "model-00001-of-00002.safetensors",
  "model-00002-of-00002.safetensors",
] as const;

/** Options of {@linkcode runHubCensusBench}. */
export interface HubCensusBenchOptions extends SyntheticBenchOptions {
  /** Cold + warm pairs, each cold one into a new empty cache; default 3. */
  repeat?: number;
}

/** The written repo: its files, what the census needs of them, the clusters. */
interface HubRepo {
  files: Record<string, HubFile>;
  bytes: number;
  needed: HubNeeded;
  clusters: number[][];
}

/**
 * Writes `specs` as a safetensors file at `path` whose first tensor's data
 * is copied from `source` (a range of a file) and the rest left zero: the
 * file is extended past the copy without writing, as a sparse file.
 */
async function writeShard(
  path: string,
  specs: readonly TensorSpec[],
  source?: FileRange,
): Promise<{ file: DiskFile; headerBytes: number }> {
  const lengths = specs.map((s) => s.shape.reduce((a, b) => a * b, 1) * 2);
  const header = encodeHeader(specs, lengths, { format: "pt" }, path);
  const size = header.length + lengths.reduce((a, b) => a + b, 0);
  using out = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  await writeHeaderAndCopy(out, header, source);
  await out.truncate(size);
  await out.sync();
  return { file: { path, size }, headerBytes: header.length };
}

/** Writes the synthetic model as a two-shard hub repo under `dir`. */
async function writeHubRepo(
  dir: string,
  shape: { rows: number; cols: number; seed: number },
): Promise<HubRepo> {
  const { rows, cols } = shape;
  const single = `${dir}/embedding.safetensors`;
  const clusters = await writeSyntheticModel(single, rows, cols, shape.seed);
  const st = await openSafetensors(single);
  const embedding = st.tensor(SYNTHETIC_TENSOR);
  st.close();
  const bf16 = (name: string, s: number[]): TensorSpec => ({
    name,
    dtype: "BF16",
    shape: s,
  });
  const layer = (k: number) =>
    bf16(`model.layers.${k}.mlp.down_proj.weight`, [cols, rows]);
  const first = await writeShard(
    `${dir}/${SHARDS[0]}`,
    [bf16(SYNTHETIC_TENSOR, [rows, cols]), layer(0)],
    { path: single, ...embedding },
  );
  await Deno.remove(single);
  const second = await writeShard(`${dir}/${SHARDS[1]}`, [
    layer(1),
    bf16("model.norm.weight", [cols]),
  ]);
  const enc = new TextEncoder();
  const index = enc.encode(JSON.stringify({
    metadata: { total_size: first.file.size + second.file.size },
    weight_map: {
      [SYNTHETIC_TENSOR]: SHARDS[0],
      [layer(0).name]: SHARDS[0],
      [layer(1).name]: SHARDS[1],
      "model.norm.weight": SHARDS[1],
    },
  }));
  const vocab = Object.fromEntries(
    Array.from({ length: rows }, (_, i) => [`t${i}`, i]),
  );
  const tokenizer = enc.encode(JSON.stringify({ model: { vocab } }));
  const files: Record<string, HubFile> = {
    [SHARDS[0]]: first.file,
    [SHARDS[1]]: second.file,
    "model.safetensors.index.json": index,
    "tokenizer.json": tokenizer,
    "config.json": enc.encode(JSON.stringify({ tie_word_embeddings: true })),
  };
  const needed: HubNeeded = {
    headers: first.headerBytes + second.headerBytes,
    embedding: embedding.byteLength,
    tokenizer: tokenizer.length,
    index: index.length,
    total: 0,
  };
  needed.total = needed.headers + needed.embedding + needed.tokenizer +
    needed.index;
  let bytes = 0;
  for (const f of Object.values(files)) {
    bytes += f instanceof Uint8Array ? f.length : f.size;
  }
  return { files, bytes, needed, clusters };
}

function sameClusters(planted: number[][], found: number[][]): boolean {
  const want = planted.map((c) => c.join(",")).sort();
  const got = found.map((c) => c.join(",")).sort();
  return want.length === got.length && want.every((w, k) => w === got[k]);
}

/**
 * Writes the repo, serves it, times `repeat` cold censuses (each into a new
 * empty cache) each followed by a warm one, removes everything.
 *
 * @example A small, quick run (1 MiB embedding)
 * ```ts
 * import assert from "node:assert/strict";
 * import { runHubCensusBench } from "./census_hub.ts";
 * const r = await runHubCensusBench({ rows: 8192, cols: 64, repeat: 1 });
 * assert.equal(r.correct && r.exact, true);
 * assert.equal(r.cold.fileBytes, r.needed.total);
 * assert.equal(r.warm.fileBytes, 0);
 * ```
 */
export async function runHubCensusBench(
  options: HubCensusBenchOptions = {},
): Promise<HubCensusBenchResult> {
  const setup = { prefix: "horizon_census_hub_bench_", defaultRepeat: 3 };
  return await withSyntheticBench({ ...options, ...setup }, async (
    { rows, cols, repeat, seed, log, dir },
  ) => {
    log(`writing a 2-shard repo with a BF16 ${rows} x ${cols} embedding`);
    const tw = performance.now();
    const repo = await writeHubRepo(dir, {
      rows,
      cols,
      seed,
    });
    const writeSeconds = (performance.now() - tw) / 1000;
    const hub = await startTestHubServer(HUB_BENCH_REPO, repo.files);
    try {
      const cold: HubFetch[] = [];
      const warm: HubFetch[] = [];
      let found = { C: -1, P: -1 };
      let correct = true;
      const census = async (cacheDir: string): Promise<HubFetch> => {
        hub.reset();
        const t0 = performance.now();
        // The endpoint as HF_ENDPOINT would give it, without changing this
        // process's environment; no token, so a user's HF_TOKEN stays home.
        const report = await runCensus(HUB_BENCH_REPO, {
          hub: { endpoint: hub.endpoint, cacheDir, token: "" },
        });
        const seconds = (performance.now() - t0) / 1000;
        const t = report.tensors[0];
        found = { C: t.C, P: t.P };
        correct = correct && report.tensors.length === 1 &&
          sameClusters(repo.clusters, t.clusters.map((c) => c.tokens));
        return fetchOf(hub.stats, seconds);
      };
      for (let i = 0; i < repeat; i++) {
        const cacheDir = `${dir}/cache-${i}`;
        cold.push(await census(cacheDir));
        warm.push(await census(cacheDir));
        const line = (f: HubFetch) =>
          `${
            f.seconds.toFixed(3)
          } s (${f.fileBytes} file bytes, ${f.requests} requests)`;
        log(`run ${i + 1}: cold ${line(cold[i])}; warm ${line(warm[i])}`);
        await Deno.remove(cacheDir, { recursive: true });
      }
      return {
        path: "hub",
        repo: HUB_BENCH_REPO,
        endpoint: hub.endpoint,
        rows,
        cols,
        dtype: "BF16",
        bytes: rows * cols * 2,
        repoFiles: Object.keys(repo.files).length,
        repoBytes: repo.bytes,
        needed: repo.needed,
        planted: {
          C: repo.clusters.length,
          P: repo.clusters.reduce((a, c) => a + c.length, 0),
        },
        found,
        correct,
        exact: cold.every((c) => c.fileBytes === repo.needed.total) &&
          warm.every((w) => w.fileBytes === 0),
        writeSeconds,
        cold: summary(cold),
        warm: summary(warm),
        fraction: cold[0].fileBytes / repo.bytes,
        loadAverage: loadAverage(),
        cpus: navigator.hardwareConcurrency,
      };
    } finally {
      await hub.close();
    }
  });
}

function fetchOf(stats: HubServerStats, seconds: number): HubFetch {
  return {
    seconds,
    fileBytes: stats.fileBytes,
    apiBytes: stats.apiBytes,
    requests: stats.requests,
  };
}

/** The median seconds of `runs`, the bytes and requests of the first. */
function summary(runs: HubFetch[]): HubCensusBenchResult["cold"] {
  return {
    ...runs[0],
    seconds: distribution(runs.map((r) => r.seconds)).median,
    runs: runs.map((r) => r.seconds),
  };
}
