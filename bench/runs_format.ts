/**
 * What the runs benchmark (`bench/runs.ts`) measures, as a result object
 * (also its `--json` output; the field names are stable), and the table it
 * prints without `--json`.
 *
 * @module
 */

import type { MachineEstimate, MsStats } from "./runs_stats.ts";

/** One way of executing the runs (`setups[]` in the JSON). */
export interface SetupResult {
  /** Stable id: `pool-1` and `pool-2` (local pool), `queue-2` (queue). */
  readonly id: string;
  /** Local pool of job processes, or queue workers on a private Redis. */
  readonly executor: "pool" | "queue";
  /** Workers (pool processes at once, or queue worker processes). */
  readonly workers: number;
  /** cpu backend threads of each worker. */
  readonly threads: number;
  /** Runs that completed (their records made). */
  readonly runs: number;
  /** Runs that failed or diverged. */
  readonly failed: number;
  /**
   * Wall ms from handing the runs over (runPool, submitRuns called) to the
   * last result; queue workers were started and waiting before.
   */
  readonly wallMs: number;
  /** runs x 3,600,000 / wallMs. */
  readonly runsPerHour: number;
  /**
   * Each run's wall time where it ran: a pool job's process from spawn to
   * exit (process start-up and graph compilation included); a queue
   * worker's start line to its done line.
   */
  readonly runWallMs: MsStats;
  /** The training loop alone: the records' `wallMs`. */
  readonly trainWallMs: MsStats;
}

/** The queue's overhead per job, from the runs of the queue setup. */
export interface QueueOverheadResult {
  /** pickupMs + returnMs per job: the queue's overhead. */
  readonly perJobMs: MsStats;
  /** Job available (queued, its worker free) to the worker's start line. */
  readonly pickupMs: MsStats;
  /** The worker's done line to the record at the submitter. */
  readonly returnMs: MsStats;
  /** Submission to result, waiting for a busy worker included. */
  readonly latencyMs: MsStats;
  /** median perJobMs / (median worker run ms + median perJobMs). */
  readonly fraction: number;
  /** Median size of a run's record as JSON (what a job returns), bytes. */
  readonly recordBytes: number;
  /** Ms from spawning the worker processes to both waiting for runs. */
  readonly workerStartMs: number;
}

/**
 * Jobs that do nothing but return a record-sized value, through the same
 * Redis (BullMQ queue `horizon-bench-trivial`, one in-process worker): what
 * the queue itself costs per job, and how many jobs per second it handled.
 */
export interface TrivialJobsResult {
  /** Jobs added at once for the throughput figure. */
  readonly jobs: number;
  /** Bytes of each job's return value (a run's record as JSON). */
  readonly payloadBytes: number;
  /** Wall ms from adding the jobs to the last one's result fetched. */
  readonly wallMs: number;
  /** jobs / (wallMs / 1000): a lower bound on what one Redis sustains. */
  readonly jobsPerSecond: number;
  /** One job at a time, add to result: the round trips. */
  readonly roundTripMs: MsStats;
  /** Worker concurrency of the throughput figure. */
  readonly concurrency: number;
}

/** The estimate for N machines. */
export interface RunsEstimateResult {
  /** The setup whose runs/hour is taken as one machine's. */
  readonly basis: string;
  /** That setup's runs/hour: one machine's. */
  readonly perMachineRunsPerHour: number;
  /** {@link QueueOverheadResult.fraction}; null without the queue. */
  readonly overheadFraction: number | null;
  /** {@link TrivialJobsResult.jobsPerSecond}; null when not measured. */
  readonly redisJobsPerSecond: number | null;
  /** Machines at which Redis's measured jobs/s is reached; null if unknown. */
  readonly saturatesAtMachines: number | null;
  /** One row per machine count of `--machines`. */
  readonly rows: readonly MachineEstimate[];
}

/** The whole measurement (the `--json` output). */
export interface RunsBenchResult {
  /** The hypothesis whose runs were trained. */
  readonly hypothesis: string;
  /** `smoke` or `full`. */
  readonly tier: string;
  /** Training steps of each run. */
  readonly steps: number;
  /** Seeds of the runs (the same runs in every setup). */
  readonly seeds: readonly number[];
  /** Logical CPUs. */
  readonly cores: number;
  /** `os/arch`. */
  readonly machine: string;
  /** Deno's version. */
  readonly deno: string;
  /** 1-minute load average at the start and the end (null if unknown). */
  readonly loadAverage: {
    readonly start: number | null;
    readonly end: number | null;
  };
  /** `pool-1`, `pool-2`, then `queue-2` when measured. */
  readonly setups: readonly SetupResult[];
  /** Null when the queue was not measured (see `skipped`). */
  readonly queue: {
    readonly overhead: QueueOverheadResult;
    readonly trivial: TrivialJobsResult | null;
  } | null;
  /** What was not measured, and why. */
  readonly skipped: readonly string[];
  /** Null when no setup completed a run. */
  readonly estimate: RunsEstimateResult | null;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const sig = (x: number) =>
  x.toLocaleString("en-US", { maximumSignificantDigits: 2 });
const rate = (x: number) =>
  x >= 100
    ? Math.round(x).toLocaleString("en-US")
    : x.toLocaleString("en-US", { maximumFractionDigits: 1 });

/** Human-readable setup name: `pool, 1 worker x 2 threads`. */
export function setupLabel(r: SetupResult): string {
  return `${r.executor}, ${r.workers} worker${
    r.workers === 1 ? "" : "s"
  } x ${r.threads} thread${r.threads === 1 ? "" : "s"}`;
}

/**
 * The report: a table of the setups, the queue's overhead, the trivial
 * jobs and the estimate for N machines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRunsBench } from "./runs_format.ts";
 * const one = { n: 1, median: 30_000, min: 30_000, max: 30_000 };
 * const text = formatRunsBench({
 *   hypothesis: "h", tier: "smoke", steps: 300, seeds: [1], cores: 2,
 *   machine: "linux/x86_64", deno: "2", loadAverage: { start: null, end: null },
 *   setups: [{ id: "pool-1", executor: "pool", workers: 1, threads: 2, runs: 1,
 *     failed: 0, wallMs: 30_000, runsPerHour: 120, runWallMs: one, trainWallMs: one }],
 *   queue: null, skipped: [], estimate: null,
 * });
 * assert.match(text, /\| pool, 1 worker x 2 threads \| 1 \| 30\.0 s \| 120 \| 30\.0 s \| 30\.0 s \|/);
 * ```
 */
export function formatRunsBench(r: RunsBenchResult): string {
  const load = (x: number | null) => x === null ? "?" : x.toFixed(2);
  const lines = [
    `runs bench: ${r.hypothesis} ${r.tier} (${r.steps} steps), seeds ${
      r.seeds.join(",")
    }; ${r.cores} cores, ${r.machine}, deno ${r.deno}; load average ${
      load(r.loadAverage.start)
    } -> ${load(r.loadAverage.end)}`,
    "",
    "| setup | runs | wall | runs/hour | per-run wall (median) | training (median) |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const x of r.setups) {
    lines.push(
      `| ${setupLabel(x)} | ${x.runs}${
        x.failed ? ` (+${x.failed} failed)` : ""
      } | ${s(x.wallMs)} | ${rate(x.runsPerHour)} | ${
        x.runWallMs.n ? s(x.runWallMs.median) : "-"
      } | ${x.trainWallMs.n ? s(x.trainWallMs.median) : "-"} |`,
    );
  }
  if (r.queue) {
    const o = r.queue.overhead;
    lines.push(
      "",
      `queue overhead per job: median ${ms(o.perJobMs.median)}, max ${
        ms(o.perJobMs.max)
      } (pickup median ${ms(o.pickupMs.median)}, result back median ${
        ms(o.returnMs.median)
      }), ${(o.fraction * 100).toFixed(2)}% of a job's time; records ${
        (o.recordBytes / 1000).toFixed(1)
      } kB; workers took ${s(o.workerStartMs)} to start (not in the wall)`,
    );
    const t = r.queue.trivial;
    if (t) {
      lines.push(
        `trivial jobs (${
          (t.payloadBytes / 1000).toFixed(1)
        } kB result each): one at a time ${
          ms(t.roundTripMs.median)
        } per round trip (median of ${t.roundTripMs.n}); ${t.jobs} at once: ${
          rate(t.jobsPerSecond)
        } jobs/s (concurrency ${t.concurrency}, one process: a lower bound on one Redis)`,
      );
    }
  }
  const e = r.estimate;
  if (e) {
    lines.push(
      "",
      `estimate for N machines like this one (${
        rate(e.perMachineRunsPerHour)
      } runs/hour each, from ${e.basis}): linear in N, since a job's queue cost ${
        e.overheadFraction === null
          ? "(not measured)"
          : `is ${(e.overheadFraction * 100).toFixed(2)}% of its time`
      } and the machines share only Redis${
        e.redisJobsPerSecond === null
          ? " (its limit not measured)"
          : `, up to the ${
            rate(e.redisJobsPerSecond)
          } jobs/s one Redis handled here${
            e.saturatesAtMachines === null
              ? ""
              : ` (reached at ~${
                e.saturatesAtMachines.toLocaleString("en-US")
              } machines)`
          }`
      }`,
      "",
      "| machines | runs/hour | jobs/s on Redis | Redis load | limited by |",
      "| --- | --- | --- | --- | --- |",
      ...e.rows.map((m) =>
        `| ${m.machines} | ${rate(m.runsPerHour)} | ${sig(m.jobsPerSecond)} | ${
          m.redisLoad === null ? "-" : `${sig(m.redisLoad * 100)}%`
        } | ${m.limitedBy} |`
      ),
    );
  }
  for (const x of r.skipped) lines.push(`skipped ${x}`);
  return lines.join("\n");
}
