/**
 * Census benchmark: is the census close to the speed of just reading the
 * bytes?
 *
 * Writes a synthetic BF16 embedding of Qwen2.5-3B's shape (151,936 x 2,048,
 * ~622 MB) with planted clusters (60 clusters, 2,152 rows, like the public
 * notes on that model; `synthetic_model.ts`) to a temporary `.safetensors`
 * file, then times, alternately in the same run, (a) reading the tensor's
 * bytes sequentially and (b) the full census of the file, and reports the
 * medians and their ratio (target: census <= 2x read). The planted clusters
 * must be found exactly, or the benchmark fails.
 *
 * A program that prints numbers rather than a `Deno.bench` file: its figure
 * is a ratio of two measurements taken in turn in one run, from the page
 * cache and from the disk. Run it as `deno task bench census` (the bench
 * CLI, bench/main.ts, calls {@linkcode censusBenchMain}) or directly:
 * `deno run -A bench/census.ts`. The row-key engines alone are timed by
 * `deno bench -A bench/`. With `--gguf` the same rows are a GGUF file; with
 * `--hub` they are one shard of a model repo served on 127.0.0.1 and the
 * census reads them through the hub path (`census_hub.ts`), reporting the
 * bytes fetched and the seconds with an empty and a filled cache.
 *
 * @module
 */

import { DEFAULT_BLOCK_BYTES } from "../src/census/scan.ts";
import { runCensus } from "../src/census/census.ts";
import { intOption, parseCliArgs, UsageError } from "../src/cli/errors.ts";
import { distribution } from "../src/verdict/rates.ts";
import { openSafetensors } from "../src/io/safetensors/mod.ts";
import {
  type CensusBenchResult,
  type ColdBench,
  formatCensusBench,
  formatHubCensusBench,
  type HubCensusBenchResult,
  loadAverage,
} from "./census_format.ts";
import { type HubCensusBenchOptions, runHubCensusBench } from "./census_hub.ts";

export type { CensusBenchResult, ColdBench, HubCensusBenchResult };
import { oneLine } from "../src/process/one_line.ts";
import { pageCacheDropper } from "./page_cache.ts";
import {
  readRange,
  type ReadVariant,
  readVariants,
  timed,
  type Timing,
} from "./read_baseline.ts";
import {
  SYNTHETIC_TENSOR,
  type SyntheticBenchOptions,
  withSyntheticBench,
  writeSyntheticModel,
} from "./synthetic_model.ts";
import { encodeGguf } from "../src/census/gguf/write_gguf.ts";
import { openGguf } from "../src/census/gguf/reader.ts";
import { writeHeaderAndCopy } from "./census_copy.ts";

/** Options of {@linkcode runCensusBench}. */
export interface CensusBenchOptions extends SyntheticBenchOptions {
  /** Timed repetitions of each measurement; default 5 (medians reported). */
  repeat?: number;
  /**
   * Also time both from a cold page cache (the file's pages dropped with
   * `posix_fadvise(DONTNEED)` through FFI before each run), i.e. reading
   * from the disk itself. Default true; skipped where not Linux or without
   * FFI permission.
   */
  cold?: boolean;
  /** Repetitions of the cold measurement; default 3. */
  coldRepeat?: number;
  /**
   * File format of the synthetic model: `safetensors` (default) or `gguf`
   * (the same BF16 rows as llama.cpp's `token_embd.weight`).
   */
  format?: "safetensors" | "gguf";
}

/** GGUF name of the input embedding. */
const GGUF_TENSOR = "token_embd.weight";

/**
 * Rewrites the synthetic safetensors model at `from` as a GGUF file at `to`
 * (same BF16 bytes), streaming the data; removes `from`.
 */
async function convertToGguf(
  from: string,
  to: string,
  shape: [number, number],
): Promise<void> {
  const st = await openSafetensors(from);
  const { byteOffset, byteLength } = st.tensor(SYNTHETIC_TENSOR);
  st.close();
  // With one tensor its data offset is 0 whatever its length, so the file
  // written for empty data is exactly the header of the full one.
  const header = encodeGguf({
    tensors: [{
      name: GGUF_TENSOR,
      type: "BF16",
      shape,
      data: new Uint8Array(),
    }],
  });
  {
    using out = await Deno.open(to, {
      write: true,
      create: true,
      truncate: true,
    });
    await writeHeaderAndCopy(out, header, {
      path: from,
      byteOffset,
      byteLength,
    });
  }
  await Deno.remove(from);
}

/** Where the synthetic tensor's bytes lie in its file. */
async function tensorRange(
  path: string,
  gguf: boolean,
): Promise<{ byteOffset: number; byteLength: number }> {
  if (gguf) {
    const file = openGguf(path);
    try {
      return file.header.tensors.get(GGUF_TENSOR)!;
    } finally {
      file.close();
    }
  }
  const file = await openSafetensors(path);
  try {
    return file.tensor(SYNTHETIC_TENSOR);
  } finally {
    file.close();
  }
}

/**
 * Generates the synthetic model, times read vs census, removes the file.
 *
 * @example A small, quick run (1 MiB, page cache only)
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCensusBench } from "./census.ts";
 * const r = await runCensusBench({ rows: 8192, cols: 64, repeat: 1, cold: false });
 * assert.equal(r.correct, true);
 * assert.deepEqual(r.found, { C: 60, P: 2_152 });
 * assert.ok(r.ratio > 0);
 * ```
 */
export async function runCensusBench(
  options: CensusBenchOptions = {},
): Promise<CensusBenchResult> {
  const setup = { prefix: "horizon_census_bench_", defaultRepeat: 5 };
  return await withSyntheticBench({ ...options, ...setup }, async (
    { rows, cols, repeat, seed, log, dir },
  ) => {
    const gguf = options.format === "gguf";
    const written = `${dir}/model.safetensors`;
    const path = gguf ? `${dir}/model.gguf` : written;
    const bytes = rows * cols * 2;
    log(
      `writing synthetic BF16 ${rows} x ${cols} (${
        (bytes / 1e6).toFixed(1)
      } MB) to ${path}`,
    );
    const tw = performance.now();
    const clusters = await writeSyntheticModel(
      written,
      rows,
      cols,
      seed,
    );
    if (gguf) await convertToGguf(written, path, [rows, cols]);
    // Flush the new file to disk first, so that the kernel is not writing
    // 600 MB of dirty pages back while the timed runs go on.
    const flush = await Deno.open(path, { read: true });
    try {
      await flush.sync();
    } finally {
      flush.close();
    }
    const writeSeconds = (performance.now() - tw) / 1000;
    const planted = {
      C: clusters.length,
      P: clusters.reduce((a, c) => a + c.length, 0),
    };

    const { byteOffset, byteLength } = await tensorRange(path, gguf);
    // The fastest way of reading the bytes is the baseline.
    const { all: variants, disk } = readVariants(DEFAULT_BLOCK_BYTES);
    const read = (v: ReadVariant) =>
      timed(() => readRange(path, byteOffset, byteLength, v));
    // Untimed warm-up of everything, so that every timed run sees the same
    // cache state and compiled code.
    for (const v of variants) await read(v);
    await runCensus(path, { tokenizer: false });

    const readRuns: Timing[][] = variants.map(() => []);
    const censusRuns: Timing[] = [];
    let found = { C: -1, P: -1 };
    let correct = true;
    // Interleaved, so that a burst of load elsewhere on the machine hits
    // all measurements alike.
    for (let i = 0; i < repeat; i++) {
      for (const [k, v] of variants.entries()) {
        readRuns[k].push(await read(v));
      }
      let report: Awaited<ReturnType<typeof runCensus>> | undefined;
      censusRuns.push(
        await timed(async () => {
          report = await runCensus(path, { tokenizer: false });
        }),
      );
      log(
        `run ${i + 1}: read ${
          readRuns.map((r) => r[i].wall.toFixed(3)).join(" / ")
        } s; census ${censusRuns[i].wall.toFixed(3)} s`,
      );
      const t = report!.tensors[0];
      found = { C: t.C, P: t.P };
      const want = clusters.map((c) => c.join(",")).sort();
      const got = t.clusters.map((c) => c.tokens.join(",")).sort();
      correct = correct && want.length === got.length &&
        want.every((w, k) => w === got[k]);
    }
    const wall = (ts: Timing[]) => distribution(ts.map((t) => t.wall)).median;
    const cpu = (ts: Timing[]) => distribution(ts.map((t) => t.cpu)).median;

    let cold: ColdBench | null = null;
    const dropper = options.cold === false ? null : pageCacheDropper();
    if (dropper !== null) {
      try {
        const coldReads: number[] = [];
        const coldCensus: number[] = [];
        for (let i = 0; i < (options.coldRepeat ?? 3); i++) {
          dropper.drop(path);
          coldReads.push((await read(disk)).wall);
          dropper.drop(path);
          const t0 = performance.now();
          await runCensus(path, { tokenizer: false });
          coldCensus.push((performance.now() - t0) / 1000);
          log(
            `cold run ${i + 1}: read ${coldReads[i].toFixed(3)} s; census ${
              coldCensus[i].toFixed(3)
            } s`,
          );
        }
        const readSeconds = distribution(coldReads).median;
        const censusSeconds = distribution(coldCensus).median;
        cold = {
          readRuns: coldReads,
          censusRuns: coldCensus,
          readSeconds,
          censusSeconds,
          ratio: censusSeconds / readSeconds,
        };
      } finally {
        dropper.close();
      }
    }

    let best = 0;
    for (let k = 1; k < variants.length; k++) {
      if (wall(readRuns[k]) < wall(readRuns[best])) best = k;
    }
    const readSeconds = wall(readRuns[best]);
    const censusSeconds = wall(censusRuns);
    return {
      format: gguf ? "gguf" : "safetensors",
      rows,
      cols,
      dtype: "BF16",
      bytes,
      planted,
      found,
      correct,
      writeSeconds,
      reads: variants.map((v, k) => ({
        name: v.name,
        runs: readRuns[k].map((t) => t.wall),
        seconds: wall(readRuns[k]),
      })),
      baseline: variants[best].name,
      censusRuns: censusRuns.map((t) => t.wall),
      readSeconds,
      censusSeconds,
      ratio: censusSeconds / readSeconds,
      readCpuSeconds: cpu(readRuns[best]),
      censusCpuSeconds: cpu(censusRuns),
      cpuRatio: cpu(censusRuns) / cpu(readRuns[best]),
      target: 2,
      cold,
      loadAverage: loadAverage(),
      cpus: navigator.hardwareConcurrency,
    };
  });
}

const USAGE =
  `usage: deno task bench census [--json] [--repeat N] [--warm-only] [--rows N] [--cols N] [--dir DIR] [--gguf | --hub]

Times the black-hole census on a synthetic BF16 matrix (default 151,936 x 2,048,
Qwen2.5-3B's shape, ~622 MB, written to a temporary file and removed after)
against plainly reading the same bytes, and prints both and their ratio: with
the file in the page cache (the hard case), and, on Linux, from the disk
(page cache dropped before each run; --warm-only skips this). --gguf writes the
same rows as a GGUF file (BF16 token_embd.weight) and times the GGUF census.
--hub serves the rows as the embedding in one shard of a 2-shard model repo
(with two layer tensors of the same size that must not be fetched) on
127.0.0.1, runs the census on the repo id into an empty cache (cold) and again
with that cache (warm), --repeat times (default 3), and prints the seconds and
the bytes fetched against those in the repo.`;

/** What the CLI asked for: the case and its options. */
type BenchRequest =
  | { hub: false; options: CensusBenchOptions }
  | { hub: true; options: HubCensusBenchOptions };

/** Parses the CLI's arguments; `null` for `--help`. */
function parseBenchArgs(
  args: string[],
): { json: boolean; request: BenchRequest } | null {
  const { values } = parseCliArgs(args, {
    json: { type: "boolean" },
    repeat: { type: "string" },
    rows: { type: "string" },
    cols: { type: "string" },
    dir: { type: "string" },
    "warm-only": { type: "boolean" },
    gguf: { type: "boolean" },
    hub: { type: "boolean" },
  });
  if (values.help) return null;
  const json = values.json === true;
  const common = {
    repeat: intOption("repeat", values.repeat, { min: 1 }),
    rows: intOption("rows", values.rows, { min: 8192 }),
    cols: intOption("cols", values.cols, { min: 2 }),
    dir: values.dir,
    log: json ? () => {} : (line: string) => console.error(line),
  };
  if (common.cols !== undefined && common.cols % 2 !== 0) {
    throw new UsageError(`--cols must be even, got ${common.cols}`);
  }
  if (values.hub === true) {
    if (values.gguf === true) {
      throw new UsageError("--hub and --gguf cannot be combined");
    }
    if (values["warm-only"] === true) {
      throw new UsageError(
        "--warm-only does not apply to --hub (its cold run is an empty cache)",
      );
    }
    return { json, request: { hub: true, options: common } };
  }
  return {
    json,
    request: {
      hub: false,
      options: {
        ...common,
        cold: values["warm-only"] !== true,
        format: values.gguf === true ? "gguf" : "safetensors",
      },
    },
  };
}

/**
 * CLI entry: parses `args`, runs the benchmark, prints the result (JSON with
 * `--json`), and returns the exit code: 0, 1 if the census result was wrong
 * (or, with `--hub`, fetched other bytes than it needs) or the run failed,
 * 2 on bad usage.
 *
 * @example From the main bench CLI
 * ```ts ignore
 * import { censusBenchMain } from "../../bench/census.ts";
 * Deno.exit(await censusBenchMain(Deno.args.slice(1)));
 * ```
 */
export async function censusBenchMain(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}`);
    return 2;
  }
  if (parsed === null) {
    console.log(USAGE);
    return 0;
  }
  const { json, request } = parsed;
  try {
    if (request.hub) {
      const result = await runHubCensusBench(request.options);
      console.log(
        json ? JSON.stringify(result, null, 2) : formatHubCensusBench(result),
      );
      return result.correct && result.exact ? 0 : 1;
    }
    const result = await runCensusBench(request.options);
    console.log(
      json ? JSON.stringify(result, null, 2) : formatCensusBench(result),
    );
    return result.correct ? 0 : 1;
  } catch (e) {
    console.error(`error: census bench failed: ${oneLine(e)}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await censusBenchMain(Deno.args));
}
