/**
 * The census benchmark's report: one line per measurement, the medians with
 * their runs, and whether the target ratio was met (the CLI's output
 * without `--json`).
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
 * assert.match(text, /^census bench: synthetic BF16 8,192 x 64 \(1\.0 MB\)/);
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
    } MB), planted C=${n(r.planted.C)} P=${
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
