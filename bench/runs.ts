/**
 * Runs benchmark: how many runs per hour this machine trains, with the local
 * pool and with the queue, what the queue costs per job, and what N
 * machines would do.
 *
 * The same N runs (default 4: seeds 1..4 of `11.2b-jiggling` at the smoke
 * tier, 300 steps, on cpu) are trained, really and from scratch (fresh
 * temporary records and cache folders, removed at the end), in turn by:
 *
 * 1. the local pool (`runPool`), 1 worker x all cores' threads (`pool-1`);
 * 2. the local pool, 2 workers x cores/2 threads (`pool-2`);
 * 3. the queue (`queue-2`): a private `redis-server` on a free loopback
 *    port, 2 `deno task worker` processes (`src/cli/worker.ts`, cores/2
 *    threads each, started and waiting before the clock starts), the runs
 *    handed over with `submitRuns`. Skipped, with a line on stderr, when
 *    `redis-server` is not installed or `--no-queue` is given.
 *
 * Each setup's figure is runs x 3,600,000 / wall ms from handing the runs
 * over to the last result. The queue's overhead per job is, per run, the
 * time from the moment it could have started (queued, and its worker free)
 * to the worker's start line, plus the time from the worker's done line to
 * the record at the submitter (the worker's lines are timestamped as they
 * arrive through its stdout pipe; see `queueOverheads` in runs_stats.ts).
 * Then trivial jobs (a no-op in-process BullMQ worker returning a
 * record-sized value, on the same Redis) give the queue's round trip and the
 * jobs per second one Redis handled, and the estimate for N machines
 * (`--machines`) scales the queue setup's runs/hour linearly up to that
 * rate.
 *
 * A program that prints numbers (progress lines on stderr); it asserts
 * nothing about them. Run it as `deno task bench runs` (bench/main.ts
 * calls {@linkcode runsBenchMain}) or `deno run -A bench/runs.ts`.
 *
 * `--json` prints one {@link RunsBenchResult}; these names are stable:
 *
 * - `hypothesis`, `tier`, `steps`, `seeds`, `cores`, `machine`, `deno`,
 *   `loadAverage.{start,end}`: what ran where;
 * - `setups[]`: `id` (`pool-1`, `pool-2`, `queue-2`), `executor`, `workers`,
 *   `threads` (per worker), `runs` (completed), `failed`, `wallMs`,
 *   `runsPerHour`, `runWallMs` and `trainWallMs` (`{n, median, min, max}`:
 *   each run's wall where it ran, and its training loop alone);
 * - `queue.overhead`: `perJobMs`, `pickupMs`, `returnMs`, `latencyMs`
 *   (`{n, median, min, max}`), `fraction`, `recordBytes`, `workerStartMs`;
 * - `queue.trivial`: `jobs`, `payloadBytes`, `wallMs`, `jobsPerSecond`,
 *   `roundTripMs`, `concurrency` (null with `--trivial-jobs 0`);
 * - `estimate`: `basis` (a setup id), `perMachineRunsPerHour`,
 *   `overheadFraction`, `redisJobsPerSecond`, `saturatesAtMachines`, and
 *   `rows[]`: `machines`, `runsPerHour`, `jobsPerSecond`, `redisLoad`,
 *   `limitedBy` (`machines` or `redis`);
 * - `skipped[]`: what was not measured, and why.
 *
 * @module
 */

import { Queue, QueueEvents, Worker } from "bullmq";
import { hypothesisById } from "../hypotheses/mod.ts";
import { intOption, parseCliArgs, UsageError } from "../src/cli/errors.ts";
import { tierOption } from "../src/cli/options.ts";
import { stopSignal, stopState } from "../src/process/lifeline.ts";
import { oneLine } from "../src/process/one_line.ts";
import { WorkerProcess } from "../src/testing/worker_process.ts";
import {
  type PlannedRun,
  planRuns,
  type RunSpec,
} from "../src/executor/plan.ts";
import { readRecord, recordPath } from "../src/history/records.ts";
import type { RunRecord } from "../src/hypothesis/types.ts";
import {
  connectionOptions,
  parseRedisUrl,
} from "../src/executor/queue/connection.ts";
import { startRedisServer } from "../src/executor/queue/redis_server.ts";
import { submitRuns } from "../src/executor/queue/submit.ts";
import { runPool } from "../src/executor/pool.ts";
import { isRunEnd, type RunEnd } from "../src/executor/events.ts";
import {
  formatRunsBench,
  type QueueOverheadResult,
  type RunsBenchResult,
  type RunsEstimateResult,
  type SetupResult,
  type TrivialJobsResult,
} from "./runs_format.ts";
import {
  estimateMachines,
  msStats,
  overheadFraction,
  queueOverheads,
  type QueueRunTimes,
  redisSaturation,
  runsPerHour,
} from "./runs_stats.ts";
import { loadAverage } from "./census_format.ts";

export type { RunsBenchResult } from "./runs_format.ts";

/** Options of {@linkcode runRunsBench}. */
export interface RunsBenchOptions {
  /** Hypothesis id (default `11.2b-jiggling`). */
  readonly hypothesis?: string;
  /** Runs per setup: seeds 1..runs (default 4). */
  readonly runs?: number;
  /** Default `smoke`. */
  readonly tier?: "smoke" | "full";
  /** Measure the queue (default true; needs `redis-server`). */
  readonly queue?: boolean;
  /** Trivial jobs for the queue's jobs/s (default 200; 0: none). */
  readonly trivialJobs?: number;
  /** Machine counts of the estimate (default 1, 4, 16, 64). */
  readonly machines?: readonly number[];
  /** Parent folder of the temporary folders (default: the system's). */
  readonly dir?: string;
  /** Progress lines (stderr in the CLI). */
  readonly log?: (line: string) => void;
  /** Stops the runs; the promise then rejects. */
  readonly signal?: AbortSignal;
}

/** Parsed command line of {@linkcode runsBenchMain}. */
export interface RunsBenchArgs {
  /** `--help` / `-h`: print {@linkcode USAGE} and run nothing. */
  readonly help: boolean;
  /** `--json`: one JSON object instead of the table. */
  readonly json: boolean;
  /** The benchmark's options (without `log` and `signal`). */
  readonly options: RunsBenchOptions;
}

const DEFAULT_HYPOTHESIS = "11.2b-jiggling";
const DEFAULT_MACHINES = [1, 4, 16, 64];
const ROUND_TRIPS = 20;
const TRIVIAL_CONCURRENCY = 8;
const TRIVIAL_QUEUE = "horizon-bench-trivial";

/** The help text of `deno task bench runs`. */
export const USAGE =
  `usage: deno task bench runs [--json] [--hypothesis ID] [--runs N] [--tier smoke|full]
                            [--no-queue] [--trivial-jobs N] [--machines LIST] [--dir DIR]

Trains the same N runs (seeds 1..N of a hypothesis, on cpu, from scratch in
temporary folders) with the local pool, 1 worker x all cores' threads and 2
workers x cores/2 threads, then through the queue (a private redis-server, 2
\`deno task worker\` processes), and prints runs per hour of each, the queue's
overhead per job, trivial jobs' round trip and jobs/s on the same Redis, and
an estimate for N machines. Progress goes to stderr. The defaults take a few
minutes on a 2-core machine (under 5 with two other trainings running).

Options:
  --hypothesis ID     default ${DEFAULT_HYPOTHESIS}
  --runs N            runs per setup (default 4)
  --tier smoke|full   default smoke
  --no-queue          skip the queue (it is skipped anyway without redis-server)
  --trivial-jobs N    trivial jobs for the queue's jobs/s (default 200; 0: none)
  --machines LIST     machine counts of the estimate (default ${
    DEFAULT_MACHINES.join(",")
  })
  --dir DIR           parent of the temporary folders (default: the system's)
  --json              one JSON object (fields: bench/runs.ts)
  -h, --help          this help`;

/**
 * Parses the command line; bad input throws a one-line UsageError.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRunsBenchArgs } from "./runs.ts";
 * const a = parseRunsBenchArgs(["--runs", "2", "--machines", "1,8", "--json"]);
 * assert.equal(a.json, true);
 * assert.equal(a.options.runs, 2);
 * assert.deepEqual(a.options.machines, [1, 8]);
 * ```
 */
export function parseRunsBenchArgs(args: string[]): RunsBenchArgs {
  const { values } = parseCliArgs(args, {
    json: { type: "boolean" },
    hypothesis: { type: "string" },
    runs: { type: "string" },
    tier: { type: "string" },
    "no-queue": { type: "boolean" },
    "trivial-jobs": { type: "string" },
    machines: { type: "string" },
    dir: { type: "string" },
  });
  const hypothesis = values.hypothesis ?? DEFAULT_HYPOTHESIS;
  try {
    hypothesisById(hypothesis);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const tier = tierOption(values.tier) ?? "smoke";
  let machines = DEFAULT_MACHINES;
  if (values.machines !== undefined) {
    machines = [
      ...new Set(
        values.machines.split(",").map((m) =>
          intOption("machines", m.trim(), { min: 1, max: 1_000_000 })!
        ),
      ),
    ].sort((a, b) => a - b);
  }
  return {
    help: values.help === true,
    json: values.json === true,
    options: {
      hypothesis,
      runs: intOption("runs", values.runs, { min: 1, max: 256 }) ?? 4,
      tier,
      queue: values["no-queue"] !== true,
      trivialJobs:
        intOption("trivial-jobs", values["trivial-jobs"], { min: 0 }) ?? 200,
      machines,
      dir: values.dir,
    },
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The runs of one pool setup, trained from scratch in `dir`. */
async function benchPool(
  plan: readonly PlannedRun[],
  workers: number,
  dir: string,
  options: RunsBenchOptions,
): Promise<SetupResult> {
  const log = options.log ?? (() => {});
  const cores = navigator.hardwareConcurrency || 1;
  const threads = Math.max(1, Math.floor(cores / workers));
  const id = `pool-${workers}`;
  const recordsDir = `${dir}/records`;
  const cacheDir = `${dir}/cache`;
  log(
    `${id}: ${plan.length} runs on the local pool, ${workers} worker(s) x ${threads} thread(s)...`,
  );
  const startedAt = new Map<string, number>();
  const runWall: number[] = [];
  let ended = 0;
  const t0 = performance.now();
  const results = await runPool(plan.map((p) => p.spec), {
    workers,
    threads,
    recordsDir,
    cacheDir,
    signal: options.signal,
    onEvent: (e) => {
      if (e.type === "started") startedAt.set(e.spec.key, performance.now());
      if (!isRunEnd(e)) return;
      const wall = performance.now() - startedAt.get(e.spec.key)!;
      if (e.type === "finished" && e.replicas !== 0) runWall.push(wall);
      log(
        `${id}: seed ${e.spec.seed} ${e.type}${
          e.type === "finished"
            ? e.replicas === 0 ? " (a record existed: not trained)" : ""
            : ` (${e.message})`
        } in ${seconds(wall)} (${++ended}/${plan.length})`,
      );
    },
  });
  const wallMs = performance.now() - t0;
  options.signal?.throwIfAborted();
  const trainWall: number[] = [];
  let runs = 0;
  for (const [i, r] of results.entries()) {
    // replicas 0: the record was there already, nothing trained.
    if (r.type !== "finished" || r.replicas === 0) continue;
    const record = await readRecord(
      recordPath(recordsDir, plan[i].prepared.name),
    );
    if (record === null || record.key !== r.spec.key) continue;
    runs++;
    trainWall.push(record.wallMs);
  }
  return {
    id,
    executor: "pool",
    // The pool starts no more workers than there are runs.
    workers: Math.min(workers, plan.length),
    threads,
    runs,
    failed: plan.length - runs,
    wallMs,
    runsPerHour: runsPerHour(runs, wallMs),
    runWallMs: msStats(runWall),
    trainWallMs: msStats(trainWall),
  };
}

/** Why the queue cannot be measured here, or null when it can. */
async function redisMissing(): Promise<string | null> {
  try {
    await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return "queue-2: redis-server is not installed (tools/setup.sh installs it)";
    }
    throw e;
  }
}

/** Where and how the queue setup trains its runs. */
interface QueueSetup {
  /** The private Redis server's `redis://` URL. */
  readonly url: string;
  readonly specs: readonly RunSpec[];
  /** Worker processes. */
  readonly workers: number;
  /** Threads per worker. */
  readonly threads: number;
}

/** The queue's round of runs: results, and when each was queued and answered. */
interface QueueRound {
  readonly procs: readonly WorkerProcess[];
  readonly results: readonly RunEnd[];
  /** From handing the runs over to the last result. */
  readonly wallMs: number;
  /** From starting the workers to all of them waiting for runs. */
  readonly workerStartMs: number;
  readonly queuedAt: ReadonlyMap<string, number>;
  readonly resultAt: ReadonlyMap<string, number>;
}

/**
 * Starts the worker processes, hands them the runs once all are waiting, and
 * stops them once every result is in.
 */
async function trainOnQueue(
  setup: QueueSetup,
  options: RunsBenchOptions,
): Promise<QueueRound> {
  const log = options.log ?? (() => {});
  const { url, specs } = setup;
  const tw = performance.now();
  const procs = Array.from(
    { length: setup.workers },
    () =>
      new WorkerProcess(url, { args: ["--threads", String(setup.threads)] }),
  );
  const queuedAt = new Map<string, number>();
  const resultAt = new Map<string, number>();
  try {
    await Promise.all(procs.map((w) => w.ready(180_000)));
    const workerStartMs = performance.now() - tw;
    log(
      `queue-2: workers ready in ${
        seconds(workerStartMs)
      }; submitting ${specs.length} runs...`,
    );
    let ended = 0;
    const t0 = performance.now();
    const results = await submitRuns(url, specs, {
      signal: options.signal,
      onQueueEvent: (e) => {
        if (e.type === "queued") queuedAt.set(e.spec.key, performance.now());
        if (e.type === "error") log(`queue-2: ${e.message}`);
      },
      onRunEvent: (e) => {
        if (!isRunEnd(e)) return;
        const now = performance.now();
        resultAt.set(e.spec.key, now);
        log(
          `queue-2: seed ${e.spec.seed} ${
            e.type === "finished"
              ? e.replicas === 0 ? "done (reused: not trained)" : "done"
              : `${e.type} (${e.message})`
          } at ${seconds(now - t0)} (${++ended}/${specs.length})`,
        );
      },
    });
    const wallMs = performance.now() - t0;
    // The done lines may trail the results by a pipe read.
    await new Promise((r) => setTimeout(r, 200));
    return { procs, results, wallMs, workerStartMs, queuedAt, resultAt };
  } finally {
    await Promise.all(procs.map((w) => w.stop()));
  }
}

/** What the runs the queue trained (not reused) took and weighed. */
interface QueueRuns {
  readonly runs: number;
  /** Runs whose start and done lines were found, for the overhead. */
  readonly times: readonly QueueRunTimes[];
  /** Each run's wall at its worker, start line to done line. */
  readonly runWall: readonly number[];
  /** Each run's training loop alone (its record's `wallMs`). */
  readonly trainWall: readonly number[];
  readonly recordBytes: readonly number[];
  /** The first record: the payload of the trivial jobs. */
  readonly record?: RunRecord;
}

/** Each trained run's times, from the results and the workers' lines. */
function queueRuns(
  round: QueueRound,
  log: (line: string) => void,
): QueueRuns {
  const { procs } = round;
  const times: QueueRunTimes[] = [];
  const runWall: number[] = [], trainWall: number[] = [];
  const recordBytes: number[] = [];
  let record: RunRecord | undefined;
  let runs = 0;
  for (const r of round.results) {
    // replicas 0: the queue had its record, nothing trained.
    if (r.type !== "finished" || r.replicas === 0) continue;
    runs++;
    record ??= r.record;
    trainWall.push(r.record.wallMs);
    recordBytes.push(JSON.stringify(r.record).length);
    const key = r.spec.key;
    const worker = procs.findIndex((w) => w.lineAt("start", key) !== undefined);
    const startAt = procs[worker]?.lineAt("start", key);
    const doneAt = procs[worker]?.lineAt("done", key);
    if (startAt === undefined || doneAt === undefined) {
      log(
        `queue-2: no worker printed start and done lines for seed ${r.spec.seed}: left out of the overhead`,
      );
      continue;
    }
    runWall.push(doneAt - startAt);
    times.push({
      worker,
      queuedAt: round.queuedAt.get(key) ?? startAt,
      startAt,
      doneAt,
      resultAt: round.resultAt.get(key)!,
    });
  }
  return { runs, times, runWall, trainWall, recordBytes, record };
}

/** The queue's overhead per job over the trained runs. */
function queueOverhead(
  trained: QueueRuns,
  workerStartMs: number,
  log: (line: string) => void,
): QueueOverheadResult {
  const per = queueOverheads(trained.times);
  const perJob = msStats(per.map((o) => o.overheadMs));
  log(
    `queue-2: overhead per job median ${perJob.median.toFixed(0)} ms, max ${
      perJob.max.toFixed(0)
    } ms`,
  );
  return {
    perJobMs: perJob,
    pickupMs: msStats(per.map((o) => o.pickupMs)),
    returnMs: msStats(per.map((o) => o.returnMs)),
    latencyMs: msStats(per.map((o) => o.latencyMs)),
    fraction: overheadFraction(perJob.median, msStats(trained.runWall).median),
    recordBytes: msStats(trained.recordBytes).median,
    workerStartMs,
  };
}

/** The queue setup: 2 worker processes on a private Redis, then trivial jobs. */
async function benchQueue(
  plan: readonly PlannedRun[],
  options: RunsBenchOptions,
): Promise<{
  setup: SetupResult;
  overhead: QueueOverheadResult;
  trivial: TrivialJobsResult | null;
}> {
  const log = options.log ?? (() => {});
  const cores = navigator.hardwareConcurrency || 1;
  const workers = 2;
  const threads = Math.max(1, Math.floor(cores / workers));
  const specs = plan.map((p) => p.spec);
  const server = await startRedisServer();
  try {
    log(
      `queue-2: redis-server at ${server.url}; starting ${workers} workers x ${threads} thread(s)...`,
    );
    const round = await trainOnQueue(
      { url: server.url, specs, workers, threads },
      options,
    );
    const trained = queueRuns(round, log);
    const overhead = queueOverhead(trained, round.workerStartMs, log);
    let trivial: TrivialJobsResult | null = null;
    const jobs = options.trivialJobs ?? 200;
    if (jobs > 0) {
      options.signal?.throwIfAborted();
      trivial = await benchTrivialJobs(
        server.url,
        trained.record ?? { pad: "x".repeat(50_000) },
        jobs,
        log,
      );
    }
    const { runs } = trained;
    return {
      setup: {
        id: "queue-2",
        executor: "queue",
        workers,
        threads,
        runs,
        failed: specs.length - runs,
        wallMs: round.wallMs,
        runsPerHour: runsPerHour(runs, round.wallMs),
        runWallMs: msStats(trained.runWall),
        trainWallMs: msStats(trained.trainWall),
      },
      overhead,
      trivial,
    };
  } finally {
    await server.stop();
  }
}

/**
 * Jobs that only return `payload`, on queue `horizon-bench-trivial`: first
 * {@link ROUND_TRIPS} one at a time (add, wait for completion, fetch the
 * job as the submitter does), then `jobs` added at once, each fetched
 * (state and job) when its completion event arrives, as `submitRuns` does.
 */
async function benchTrivialJobs(
  url: string,
  payload: unknown,
  jobs: number,
  log: (line: string) => void,
): Promise<TrivialJobsResult> {
  const payloadBytes = JSON.stringify(payload).length;
  log(
    `queue: ${ROUND_TRIPS} trivial round trips, then ${jobs} trivial jobs at once (${
      (payloadBytes / 1000).toFixed(1)
    } kB results)...`,
  );
  const connection = connectionOptions(parseRedisUrl(url));
  const queue = new Queue(TRIVIAL_QUEUE, { connection });
  const events = new QueueEvents(TRIVIAL_QUEUE, { connection });
  const worker = new Worker(TRIVIAL_QUEUE, () => Promise.resolve(payload), {
    connection,
    concurrency: TRIVIAL_CONCURRENCY,
  });
  try {
    await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
    const trips: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t = performance.now();
      const job = await queue.add("trivial", { i }, { jobId: `trip-${i}` });
      await job.waitUntilFinished(events, 30_000);
      await queue.getJob(job.id!);
      trips.push(performance.now() - t);
    }
    const ids = new Set(Array.from({ length: jobs }, (_, i) => `bulk-${i}`));
    let fetched = 0;
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`trivial jobs: ${fetched}/${jobs} in 120 s`)),
        120_000,
      );
      events.on("completed", ({ jobId }) => {
        if (!ids.delete(jobId)) return;
        Promise.all([queue.getJobState(jobId), queue.getJob(jobId)]).then(
          () => {
            if (++fetched === jobs) {
              clearTimeout(timer);
              resolve();
            }
          },
          (e) => {
            clearTimeout(timer);
            reject(e);
          },
        );
      });
    });
    const t0 = performance.now();
    await queue.addBulk(
      [...ids].map((jobId, i) => ({
        name: "trivial",
        data: { i },
        opts: { jobId },
      })),
    );
    await all;
    const wallMs = performance.now() - t0;
    const result: TrivialJobsResult = {
      jobs,
      payloadBytes,
      wallMs,
      jobsPerSecond: jobs / (wallMs / 1000),
      roundTripMs: msStats(trips),
      concurrency: TRIVIAL_CONCURRENCY,
    };
    log(
      `queue: trivial round trip median ${
        result.roundTripMs.median.toFixed(1)
      } ms; ${result.jobsPerSecond.toFixed(0)} jobs/s`,
    );
    return result;
  } finally {
    await Promise.allSettled([worker.close(), events.close(), queue.close()]);
  }
}

/**
 * Trains the runs in every setup and measures the queue; removes its
 * temporary folders.
 */
export async function runRunsBench(
  options: RunsBenchOptions = {},
): Promise<RunsBenchResult> {
  const log = options.log ?? (() => {});
  const h = hypothesisById(options.hypothesis ?? DEFAULT_HYPOTHESIS);
  const tier = options.tier ?? "smoke";
  const n = options.runs ?? 4;
  const seeds = Array.from({ length: n }, (_, i) => i + 1);
  const loadStart = loadAverage();
  const skipped: string[] = [];
  const base = await Deno.makeTempDir({
    dir: options.dir,
    prefix: "horizon_runs_bench_",
  });
  try {
    log(
      `planning ${n} runs of ${h.id} ${tier} on cpu (temporary folders in ${base})...`,
    );
    const plan = (await planRuns(h, {
      tier,
      backend: "cpu",
      recordsDir: `${base}/plan`,
      seeds,
    })).slice(0, n);
    const setups: SetupResult[] = [];
    setups.push(await benchPool(plan, 1, `${base}/pool-1`, options));
    setups.push(await benchPool(plan, 2, `${base}/pool-2`, options));
    let queue: RunsBenchResult["queue"] = null;
    const missing = options.queue === false
      ? "queue-2: --no-queue"
      : await redisMissing();
    if (missing === null) {
      const q = await benchQueue(plan, options);
      setups.push(q.setup);
      queue = { overhead: q.overhead, trivial: q.trivial };
    } else {
      skipped.push(missing);
      log(`skipping ${missing}`);
    }
    return {
      hypothesis: h.id,
      tier,
      steps: plan[0].prepared.steps,
      seeds: plan.map((p) => p.spec.seed),
      cores: navigator.hardwareConcurrency,
      machine: `${Deno.build.os}/${Deno.build.arch}`,
      deno: Deno.version.deno,
      loadAverage: { start: loadStart, end: loadAverage() },
      setups,
      queue,
      skipped,
      estimate: estimateOf(setups, queue, options.machines ?? DEFAULT_MACHINES),
    };
  } finally {
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}

/**
 * The estimate for N machines from the queue setup (a cluster runs the
 * queue), or the fastest setup without it; null when nothing completed.
 */
export function estimateOf(
  setups: readonly SetupResult[],
  queue: RunsBenchResult["queue"],
  machines: readonly number[],
): RunsEstimateResult | null {
  const done = setups.filter((s) => s.runs > 0);
  const basis = done.find((s) => s.executor === "queue") ??
    [...done].sort((a, b) => b.runsPerHour - a.runsPerHour)[0];
  if (!basis) return null;
  const input = {
    perMachineRunsPerHour: basis.runsPerHour,
    redisJobsPerSecond: queue?.trivial?.jobsPerSecond ?? null,
  };
  return {
    basis: basis.id,
    perMachineRunsPerHour: basis.runsPerHour,
    overheadFraction: queue?.overhead.fraction ?? null,
    redisJobsPerSecond: input.redisJobsPerSecond,
    saturatesAtMachines: redisSaturation(input),
    rows: estimateMachines(input, machines),
  };
}

/**
 * CLI entry: parses `args`, runs the benchmark, prints the table (the JSON
 * object with `--json`), and returns the exit code: 0, 1 if a run failed or
 * the benchmark did, 2 on bad usage (one line on stderr).
 *
 * @example From the main bench CLI
 * ```ts ignore
 * import { runsBenchMain } from "../../bench/runs.ts";
 * Deno.exit(await runsBenchMain(Deno.args.slice(1)));
 * ```
 */
export async function runsBenchMain(args: string[]): Promise<number> {
  let parsed: RunsBenchArgs;
  try {
    parsed = parseRunsBenchArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const signal = stopSignal();
  try {
    const result = await runRunsBench({
      ...parsed.options,
      signal,
      log: (line) => console.error(line),
    });
    console.log(
      parsed.json ? JSON.stringify(result, null, 2) : formatRunsBench(result),
    );
    return result.setups.every((s) => s.failed === 0) ? 0 : 1;
  } catch (e) {
    const stop = stopState();
    if (stop) {
      console.error(`stopped: ${stop.reason}`);
      return stop.exitCode;
    }
    console.error(`error: runs bench failed: ${oneLine(e)}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await runsBenchMain(Deno.args));
}
