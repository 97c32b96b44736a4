/**
 * The arithmetic of the runs benchmark (`bench/runs.ts`), kept free of I/O
 * so that it is tested with hand-derived numbers: runs per hour, a list of
 * durations summarised, the queue's overhead per job from the moments the
 * submitter and the workers saw, and the estimate for N machines.
 *
 * @module
 */

import { distribution } from "../src/verdict/rates.ts";

/** Milliseconds in an hour. */
const HOUR_MS = 3_600_000;

/** Median, fastest and slowest of a list of durations (ms); NaN when empty. */
export interface MsStats {
  /** How many values. */
  readonly n: number;
  /** The median (the mean of the middle two of an even count). */
  readonly median: number;
  /** The smallest. */
  readonly min: number;
  /** The largest. */
  readonly max: number;
}

/**
 * {@link MsStats} of `values`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { msStats } from "./runs_stats.ts";
 * assert.deepEqual(msStats([30, 10, 20, 50]), { n: 4, median: 25, min: 10, max: 50 });
 * ```
 */
export function msStats(values: readonly number[]): MsStats {
  const d = distribution(values);
  return { n: d.n, median: d.median, min: d.min, max: d.max };
}

/**
 * Runs per hour of `runs` runs finished in `wallMs` (0 when nothing ran).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runsPerHour } from "./runs_stats.ts";
 * assert.equal(runsPerHour(4, 120_000), 120); // 4 runs in 2 minutes
 * ```
 */
export function runsPerHour(runs: number, wallMs: number): number {
  return runs > 0 && wallMs > 0 ? (runs * HOUR_MS) / wallMs : 0;
}

/**
 * When one queued run was seen, all on the submitter's clock (ms, e.g.
 * `performance.now()`): the worker's lines are timestamped as they arrive
 * through its stdout pipe.
 */
export interface QueueRunTimes {
  /** Which worker trained it (any id that tells the workers apart). */
  readonly worker: number;
  /** The submitter was told the job was added to the queue. */
  readonly queuedAt: number;
  /** The worker printed that it started the run. */
  readonly startAt: number;
  /** The worker printed that the run was done. */
  readonly doneAt: number;
  /** The run's result (its record) reached the submitter. */
  readonly resultAt: number;
}

/** The queue's share of one run's time (ms). */
export interface QueueRunOverhead {
  /**
   * From the moment the run could have started (queued, and its worker
   * free: the worker's previous run done) to the worker starting it; at
   * least 0.
   */
  readonly pickupMs: number;
  /** From the worker's done line to the record at the submitter. */
  readonly returnMs: number;
  /** pickupMs + returnMs: the queue's overhead of the job. */
  readonly overheadMs: number;
  /** The worker's own time for the run: start line to done line. */
  readonly workerMs: number;
  /**
   * Submission to result, waiting for a busy worker included:
   * `resultAt - queuedAt`.
   */
  readonly latencyMs: number;
}

/**
 * Each run's overhead: `(resultAt - availableAt) - (doneAt - startAt)`,
 * where `availableAt` is the later of `queuedAt` and the end (`doneAt`) of
 * the same worker's previous run, so that time spent waiting for a busy
 * worker, which is not the queue's cost, is not counted. Runs in the order
 * given.
 *
 * @example Two runs on one worker: the second waits for the first
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueOverheads } from "./runs_stats.ts";
 * const [a, b] = queueOverheads([
 *   { worker: 0, queuedAt: 0, startAt: 10, doneAt: 1010, resultAt: 1030 },
 *   { worker: 0, queuedAt: 1, startAt: 1015, doneAt: 2015, resultAt: 2040 },
 * ]);
 * assert.deepEqual(a, { pickupMs: 10, returnMs: 20, overheadMs: 30, workerMs: 1000, latencyMs: 1030 });
 * assert.deepEqual(b, { pickupMs: 5, returnMs: 25, overheadMs: 30, workerMs: 1000, latencyMs: 2039 });
 * ```
 */
export function queueOverheads(
  runs: readonly QueueRunTimes[],
): QueueRunOverhead[] {
  return runs.map((r) => {
    let previousDone = -Infinity;
    for (const o of runs) {
      if (o !== r && o.worker === r.worker && o.doneAt <= r.startAt) {
        previousDone = Math.max(previousDone, o.doneAt);
      }
    }
    const availableAt = Math.max(r.queuedAt, previousDone);
    const pickupMs = Math.max(0, r.startAt - availableAt);
    const returnMs = r.resultAt - r.doneAt;
    return {
      pickupMs,
      returnMs,
      overheadMs: pickupMs + returnMs,
      workerMs: r.doneAt - r.startAt,
      latencyMs: r.resultAt - r.queuedAt,
    };
  });
}

/**
 * The share of a job's time that is the queue's:
 * `overheadMs / (runMs + overheadMs)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overheadFraction } from "./runs_stats.ts";
 * assert.equal(overheadFraction(50, 950), 0.05);
 * ```
 */
export function overheadFraction(overheadMs: number, runMs: number): number {
  return overheadMs / (runMs + overheadMs);
}

/** What the estimate for N machines starts from. */
export interface EstimateInput {
  /** Runs per hour of one machine (measured, its queue overhead included). */
  readonly perMachineRunsPerHour: number;
  /**
   * Jobs per second the queue's one Redis handled in the trivial-job
   * measurement; null when not measured (no Redis limit is applied).
   */
  readonly redisJobsPerSecond: number | null;
}

/** The estimate for one number of machines. */
export interface MachineEstimate {
  /** How many machines like the one measured. */
  readonly machines: number;
  /** min(machines x per-machine runs/hour, Redis's jobs per hour). */
  readonly runsPerHour: number;
  /** Jobs per second the machines ask of Redis (machines x per-machine). */
  readonly jobsPerSecond: number;
  /** jobsPerSecond / Redis's measured jobs per second; null if unmeasured. */
  readonly redisLoad: number | null;
  /** What bounds runsPerHour. */
  readonly limitedBy: "machines" | "redis";
}

/**
 * Runs per hour of N machines, each as fast as the one measured: linear in
 * N (a job's queue cost is milliseconds against seconds to minutes of
 * training, and the machines share nothing but Redis) until the jobs per
 * second they ask for reach what one Redis instance handled.
 *
 * @example 120 runs/hour per machine, Redis at 0.5 jobs/s (1,800 jobs/hour)
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateMachines } from "./runs_stats.ts";
 * const [one, sixteen] = estimateMachines(
 *   { perMachineRunsPerHour: 120, redisJobsPerSecond: 0.5 },
 *   [1, 16],
 * );
 * assert.equal(one.runsPerHour, 120);
 * assert.equal(one.limitedBy, "machines");
 * assert.equal(sixteen.runsPerHour, 1800);
 * assert.equal(sixteen.limitedBy, "redis");
 * ```
 */
export function estimateMachines(
  input: EstimateInput,
  machines: readonly number[],
): MachineEstimate[] {
  const redisPerHour = input.redisJobsPerSecond === null
    ? Infinity
    : input.redisJobsPerSecond * 3600;
  return machines.map((n) => {
    const wanted = n * input.perMachineRunsPerHour;
    const jobsPerSecond = wanted / 3600;
    return {
      machines: n,
      runsPerHour: Math.min(wanted, redisPerHour),
      jobsPerSecond,
      redisLoad: input.redisJobsPerSecond === null
        ? null
        : jobsPerSecond / input.redisJobsPerSecond,
      limitedBy: wanted > redisPerHour ? "redis" : "machines",
    };
  });
}

/**
 * How many machines like the one measured it takes to reach Redis's
 * measured jobs per second (rounded down); null without a measurement.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redisSaturation } from "./runs_stats.ts";
 * assert.equal(redisSaturation({ perMachineRunsPerHour: 120, redisJobsPerSecond: 0.5 }), 15);
 * ```
 */
export function redisSaturation(input: EstimateInput): number | null {
  if (input.redisJobsPerSecond === null || input.perMachineRunsPerHour <= 0) {
    return null;
  }
  return Math.floor(
    (input.redisJobsPerSecond * 3600) / input.perMachineRunsPerHour,
  );
}
