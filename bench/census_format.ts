/**
 * The census benchmark's report: one line per measurement, the medians with
 * their runs, and whether the target ratio was met (the CLI's output
 * without `--json`); for the hub case, what was fetched and how long it
 * took with an empty and with a filled cache.
 *
 * @module
 */

/** Cold-cache measurements (disk reads) of one benchmark run. */
export interface ColdBench {
  /** Wall seconds of each blocking 16 MiB read of the bytes. */
  readRuns: number[];
  /** Wall seconds of each census. */
  censusRuns: number[];
  /** Median read seconds. */
  readSeconds: number;
  /** Median census seconds. */
  censusSeconds: number;
  /** censusSeconds / readSeconds. */
  ratio: number;
}

/** Measurements of one benchmark run (also the `--json` output). */
export interface CensusBenchResult {
  /** The file format the synthetic model was written in and read from. */
  format: "safetensors" | "gguf";
  /** Matrix rows. */
  rows: number;
  /** Matrix columns. */
  cols: number;
  /** Stored dtype. */
  dtype: "BF16";
  /** Bytes of the tensor. */
  bytes: number;
  /** What was planted. */
  planted: { C: number; P: number };
  /** What the census found. */
  found: { C: number; P: number };
  /** Whether found equals planted, cluster by cluster, in every run. */
  correct: boolean;
  /** Seconds to generate, write and fsync the file. */
  writeSeconds: number;
  /** Each way of reading the bytes: wall seconds of its runs and median. */
  reads: { name: string; runs: number[]; seconds: number }[];
  /** The fastest way, whose median is the baseline. */
  baseline: string;
  /** Wall seconds of each timed census. */
  censusRuns: number[];
  /** Baseline: the fastest read median (wall seconds). */
  readSeconds: number;
  /** Median census wall seconds. */
  censusSeconds: number;
  /** censusSeconds / readSeconds: the benchmark's figure (target <= 2). */
  ratio: number;
  /** Median process CPU seconds (all threads) of the baseline read. */
  readCpuSeconds: number;
  /** Median process CPU seconds of the census. */
  censusCpuSeconds: number;
  /** CPU-time ratio: less sensitive to other load on the machine. */
  cpuRatio: number;
  /** The target ratio (2). */
  target: number;
  /** The same from a cold page cache; null when not measured. */
  cold: ColdBench | null;
  /** 1-minute load average when the run ended (null if unavailable). */
  loadAverage: number | null;
  /** Logical CPUs. */
  cpus: number;
}

const FORMAT_NAMES = { safetensors: "safetensors", gguf: "GGUF" } as const;

/** The 1-minute load average, reported with a result (null if unavailable). */
export function loadAverage(): number | null {
  try {
    return Deno.loadavg()[0];
  } catch {
    return null;
  }
}

/**
 * Human-readable lines for a result.
 *
 * @example A small, quick run (1 MiB, page cache only)
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCensusBench } from "./census.ts";
 * import { formatCensusBench } from "./census_format.ts";
 * const r = await runCensusBench({ rows: 8192, cols: 64, repeat: 1, cold: false });
 * const text = formatCensusBench(r);
 * assert.match(text, /^census bench: synthetic BF16 8,192 x 64 \(1\.0 MB\) in a safetensors file/);
 * assert.match(text, /found C=60 P=2,152: matches the planted clusters$/);
 * ```
 */
export function formatCensusBench(r: CensusBenchResult): string {
  const gbps = (s: number) => `${(r.bytes / s / 1e9).toFixed(1)} GB/s`;
  const runs = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(" ");
  const n = (x: number) => x.toLocaleString("en-US");
  const load = r.loadAverage === null
    ? ""
    : `, load average ${r.loadAverage.toFixed(2)}`;
  const verdict = (ratio: number) =>
    ratio <= r.target ? "target <= 2 met" : "target <= 2 NOT met";
  const lines = [
    `census bench: synthetic ${r.dtype} ${n(r.rows)} x ${n(r.cols)} (${
      (r.bytes / 1e6).toFixed(1)
    } MB) in a ${FORMAT_NAMES[r.format]} file, planted C=${n(r.planted.C)} P=${
      n(r.planted.P)
    }; ${r.cpus} CPUs${load}`,
    `  write + fsync             ${r.writeSeconds.toFixed(3)} s`,
    "  warm page cache (medians; runs in parentheses):",
    ...r.reads.map((v) =>
      `    read, ${v.name.padEnd(34)} ${v.seconds.toFixed(3)} s  (${
        runs(v.runs)
      })`
    ),
    `    census ${"".padEnd(34)} ${r.censusSeconds.toFixed(3)} s  (${
      runs(r.censusRuns)
    })`,
    `    ratio census / fastest read: ${r.ratio.toFixed(2)} (${
      r.censusSeconds.toFixed(3)
    } s / ${r.readSeconds.toFixed(3)} s, ${gbps(r.censusSeconds)} vs ${
      gbps(r.readSeconds)
    }; process CPU ${r.censusCpuSeconds.toFixed(3)} s / ${
      r.readCpuSeconds.toFixed(3)
    } s): ${verdict(r.ratio)}`,
  ];
  if (r.cold !== null) {
    lines.push(
      "  from disk (page cache dropped before each run):",
      `    read, blocking, 16 MiB ${"".padEnd(18)} ${
        r.cold.readSeconds.toFixed(3)
      } s  (${runs(r.cold.readRuns)})`,
      `    census ${"".padEnd(34)} ${r.cold.censusSeconds.toFixed(3)} s  (${
        runs(r.cold.censusRuns)
      })`,
      `    ratio census / read: ${r.cold.ratio.toFixed(2)}: ${
        verdict(r.cold.ratio)
      }`,
    );
  }
  lines.push(
    `  found C=${n(r.found.C)} P=${n(r.found.P)}: ${
      r.correct ? "matches the planted clusters" : "WRONG"
    }`,
  );
  return lines.join("\n");
}

/** What one census through the hub cost, as the server counted it. */
export interface HubFetch {
  /** Wall seconds of the census. */
  seconds: number;
  /** Body bytes of file answers (`resolve` URLs). */
  fileBytes: number;
  /** Body bytes of API answers (the listing). */
  apiBytes: number;
  /** Requests the server answered. */
  requests: number;
}

/** The bytes a census of the repo needs, by kind. */
export interface HubNeeded {
  /** Every shard's length prefix and JSON header. */
  headers: number;
  /** The embedding's data. */
  embedding: number;
  /** `tokenizer.json`. */
  tokenizer: number;
  /** `model.safetensors.index.json`. */
  index: number;
  /** Their sum. */
  total: number;
}

/** Measurements of the hub case (`--hub`; also its `--json` output). */
export interface HubCensusBenchResult {
  /** Which path ran. */
  path: "hub";
  /** The repo id the census was given. */
  repo: string;
  /** The local server it was fetched from (`http://127.0.0.1:<port>`). */
  endpoint: string;
  /** Embedding rows. */
  rows: number;
  /** Embedding columns. */
  cols: number;
  /** Stored dtype. */
  dtype: "BF16";
  /** Bytes of the embedding. */
  bytes: number;
  /** Files in the repo. */
  repoFiles: number;
  /** Bytes of all of them. */
  repoBytes: number;
  /** What the census needs of them. */
  needed: HubNeeded;
  /** What was planted. */
  planted: { C: number; P: number };
  /** What the census found. */
  found: { C: number; P: number };
  /** Whether found equals planted, cluster by cluster, in every run. */
  correct: boolean;
  /** Whether every cold run fetched exactly `needed.total` file bytes, and every warm run none. */
  exact: boolean;
  /** Seconds to generate and write the repo. */
  writeSeconds: number;
  /** Empty cache: median seconds and each run's, bytes and requests of the first. */
  cold: HubFetch & { runs: number[] };
  /** The same census again with that cache. */
  warm: HubFetch & { runs: number[] };
  /** Cold file bytes / repo bytes. */
  fraction: number;
  /** 1-minute load average when the run ended (null if unavailable). */
  loadAverage: number | null;
  /** Logical CPUs. */
  cpus: number;
}

/**
 * Human-readable lines for a hub result.
 *
 * @example A small, quick run (1 MiB embedding)
 * ```ts
 * import assert from "node:assert/strict";
 * import { runHubCensusBench } from "./census_hub.ts";
 * import { formatHubCensusBench } from "./census_format.ts";
 * const r = await runHubCensusBench({ rows: 8192, cols: 64, repeat: 1 });
 * const text = formatHubCensusBench(r);
 * assert.match(text, /^census bench, hub path: /);
 * assert.match(text, /exactly headers \+ embedding \+ tokenizer \+ index/);
 * ```
 */
export function formatHubCensusBench(r: HubCensusBenchResult): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const mb = (x: number) => `${(x / 1e6).toFixed(1)} MB`;
  const runs = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(" ");
  const load = r.loadAverage === null
    ? ""
    : `, load average ${r.loadAverage.toFixed(2)}`;
  const fetched = (f: HubFetch) =>
    `fetched ${n(f.fileBytes)} file bytes + ${n(f.apiBytes)} API bytes in ${
      n(f.requests)
    } request${f.requests === 1 ? "" : "s"}`;
  const timing = (label: string, f: HubFetch & { runs: number[] }) =>
    `    ${label.padEnd(28)} ${f.seconds.toFixed(3)} s  (${runs(f.runs)})`;
  const { needed } = r;
  const what = "headers + embedding + tokenizer + index";
  return [
    `census bench, hub path: synthetic ${r.dtype} ${n(r.rows)} x ${
      n(r.cols)
    } (${mb(r.bytes)}), the embedding of one shard of ${r.repo} (${
      n(r.repoFiles)
    } files, ${
      mb(r.repoBytes)
    }) served on ${r.endpoint} by this process; planted C=${n(r.planted.C)} P=${
      n(r.planted.P)
    }; ${r.cpus} CPUs${load}`,
    `  ${"write repo".padEnd(30)} ${r.writeSeconds.toFixed(3)} s`,
    "  census of the repo id (medians; runs in parentheses):",
    timing("cold (empty cache)", r.cold) +
    `, ${(r.cold.fileBytes / r.cold.seconds / 1e6).toFixed(1)} MB/s`,
    `      ${fetched(r.cold)}: ${
      (100 * r.fraction).toFixed(2)
    }% of the repo's ${n(r.repoBytes)} bytes`,
    `      needed: headers ${n(needed.headers)} + embedding ${
      n(needed.embedding)
    } + tokenizer ${n(needed.tokenizer)} + index ${n(needed.index)} = ${
      n(needed.total)
    }`,
    timing("warm (the same cache)", r.warm),
    `      ${fetched(r.warm)}`,
    r.exact
      ? `  fetched exactly ${what}, then no file bytes`
      : `  fetched OTHER bytes than ${what} (cold), or file bytes again (warm)`,
    `  found C=${n(r.found.C)} P=${n(r.found.P)}: ${
      r.correct ? "matches the planted clusters" : "WRONG"
    }`,
  ].join("\n");
}
