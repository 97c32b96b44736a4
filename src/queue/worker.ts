/**
 * A queue worker: takes runs off the BullMQ queue, trains them with
 * {@link executeRuns} (a job's runs, one or a pack, as replicates of one
 * graph; nothing written locally: the records are the job's return value),
 * keeps each run's checkpoints in Redis, and reports progress every few
 * seconds. BullMQ's stalled-job detection returns the job of a worker that
 * died (its lock is no longer renewed) to the queue, and the next worker
 * resumes it from its last checkpoint.
 *
 * @module
 */

import { type Job, WaitingError, Worker } from "bullmq";
import {
  type ExecuteOptions,
  type ExecuteResult,
  executeRuns,
  type ExecuteRunsOptions,
} from "../experiment/execute.ts";
import type { RunSpec } from "../experiment/plan.ts";
import type { RunRecord } from "../experiment/types.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { redisCheckpointStore } from "./checkpoints.ts";
import { checkRedis, connectionOptions, parseRedisUrl } from "./connection.ts";
import {
  asRunPack,
  type PackJobResult,
  type PackProgress,
  QUEUE_NAME,
  type RunProgress,
} from "./jobs.ts";

/** How often a run pauses for 1 ms so that the worker's sockets are read. */
const PAUSE_EVERY_MS = 250;

/** What a worker reports. */
export type WorkerEvent =
  /** Connected; waiting for jobs. */
  | { readonly type: "ready" }
  /**
   * A run started; `stalls`: how often its job was found abandoned before;
   * `pack`: runs its job trains together (1: alone).
   */
  | {
    readonly type: "start";
    readonly spec: RunSpec;
    readonly stalls: number;
    readonly pack: number;
  }
  /** A run continued from a checkpoint: its first step here was `step + 1`. */
  | { readonly type: "resumed"; readonly spec: RunSpec; readonly step: number }
  | {
    readonly type: "done";
    readonly spec: RunSpec;
    readonly record: RunRecord;
    readonly wallMs: number;
  }
  /** A run failed (a divergence's error starts with `diverged`). */
  | {
    readonly type: "failed";
    readonly spec: RunSpec | null;
    readonly jobId: string;
    readonly error: string;
    readonly wallMs: number;
  }
  /** The worker stopped mid-run: the job went back to the queue. */
  | {
    readonly type: "released";
    readonly spec: RunSpec;
    readonly step: number;
    readonly wallMs: number;
  }
  /** This worker found the job of a dead worker and returned it to the queue. */
  | { readonly type: "stalled"; readonly jobId: string }
  | { readonly type: "note"; readonly spec: RunSpec; readonly text: string }
  /** A Redis problem (the client keeps reconnecting). */
  | { readonly type: "error"; readonly message: string };

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Runs trained at once by this worker (default 1). */
  readonly concurrency?: number;
  /** cpu backend threads per run (default: all cores). */
  readonly threads?: number;
  /** Steps between checkpoints (default 500). */
  readonly checkpointEvery?: number;
  /** Default {@link QUEUE_NAME}. */
  readonly queueName?: string;
  /**
   * How long a job's lock lasts without renewal (ms, default 15,000; renewed
   * every half of it). A worker silent this long counts as dead.
   */
  readonly lockMs?: number;
  /** How often workers look for jobs of dead workers (ms, default 5,000). */
  readonly stalledCheckMs?: number;
  /** A job abandoned more often than this fails (default 5). */
  readonly maxStalledCount?: number;
  /** Progress reports at most this often (ms, default 2,000). */
  readonly progressEveryMs?: number;
  readonly onEvent?: (event: WorkerEvent) => void;
  /**
   * What trains a job's runs (default {@link executeRuns}). Tests pass a fake
   * here, or a fake of one run in {@link WorkerOptions.execute}.
   */
  readonly executePack?: (
    specs: readonly RunSpec[],
    options: ExecuteRunsOptions,
  ) => Promise<ExecuteResult[]>;
  /**
   * A fake of `executeRun` for tests: the runs of a job are trained one
   * after another with it (ignored when `executePack` is given).
   */
  readonly execute?: (
    spec: RunSpec,
    options: ExecuteOptions,
  ) => Promise<RunRecord>;
}

/** A running worker. */
export interface QueueWorker {
  /**
   * Stops: takes no further job, stops the runs in progress after their
   * current step and returns them to the queue (they resume elsewhere from
   * their last checkpoint), then disconnects.
   */
  close(): Promise<void>;
}

/**
 * Connects to the queue at `url` and processes runs until closed. Throws a
 * one-line error when `url` is not `redis://HOST[:PORT][/DB]` or no Redis
 * server answers there.
 */
export async function startWorker(
  url: string,
  options: WorkerOptions = {},
): Promise<QueueWorker> {
  const target = parseRedisUrl(url);
  await checkRedis(target);
  const emit = options.onEvent ?? (() => {});
  const every = options.checkpointEvery ?? 500;
  const execute = options.executePack ??
    (options.execute ? oneByOne(options.execute) : executeRuns);
  const progressEveryMs = options.progressEveryMs ?? 2000;
  const running = new Map<string, AbortController>();
  let stopping = false;

  const processJob = async (
    job: Job<unknown, RunRecord | PackJobResult>,
    token?: string,
  ): Promise<RunRecord | PackJobResult> => {
    const t0 = performance.now();
    const wallMs = () => Math.round(performance.now() - t0);
    const jobId = job.id ?? "?";
    let specs: RunSpec[];
    try {
      specs = asRunPack(job.data);
    } catch (e) {
      const error = (e as Error).message;
      emit({ type: "failed", spec: null, jobId, error, wallMs: wallMs() });
      throw e;
    }
    const single = specs.length === 1;
    for (const spec of specs) {
      emit({
        type: "start",
        spec,
        stalls: job.stalledCounter ?? 0,
        pack: specs.length,
      });
    }
    const client = await worker.client;
    const stores = specs.map((s) => redisCheckpointStore(client, s.key));
    const controller = new AbortController();
    running.set(jobId, controller);
    const lastStep = specs.map(() => 0);
    const progress: (RunProgress | null)[] = specs.map(() => null);
    let lastSent = -Infinity, lastPause = performance.now();
    const report = () => {
      lastSent = performance.now();
      const data = single ? progress[0]! : { runs: progress } as PackProgress;
      job.updateProgress(data as unknown as object).catch((e) =>
        emit({ type: "error", message: `progress: ${(e as Error).message}` })
      );
    };
    const released = () => {
      for (const [i, spec] of specs.entries()) {
        emit({ type: "released", spec, step: lastStep[i], wallMs: wallMs() });
      }
    };
    let results: ExecuteResult[];
    try {
      results = await execute(specs, {
        threads: options.threads,
        signal: controller.signal,
        saveRecord: false,
        writeHistory: false,
        useCache: false,
        checkpoints: { store: (_, i) => stores[i], every },
        onNote: (i, text) => emit({ type: "note", spec: specs[i], text }),
        onStep: (i, info) => {
          if (lastStep[i] === 0 && info.step > 1) {
            emit({ type: "resumed", spec: specs[i], step: info.step - 1 });
          }
          const resumedFrom = progress[i]?.resumedFrom ??
            (lastStep[i] === 0 && info.step > 1 ? info.step - 1 : null);
          lastStep[i] = info.step;
          progress[i] = {
            step: info.step,
            steps: info.steps,
            loss: info.loss,
            resumedFrom,
          };
          if (
            performance.now() - lastSent >= progressEveryMs ||
            info.step === info.steps
          ) report();
          // While training, Deno's event loop rarely polls sockets: Redis
          // replies (this job's lock renewals) were seen waiting 10+ s under
          // load, long enough to lose the lock. A 1 ms pause every 250 ms
          // lets them in (the trainer awaits a promise returned here).
          if (performance.now() - lastPause < PAUSE_EVERY_MS) return undefined;
          return new Promise<void>((resolve) =>
            setTimeout(() => {
              lastPause = performance.now();
              resolve();
            }, 1)
          );
        },
      });
    } catch (e) {
      // The pack could not start (a key mismatch, an unknown hypothesis):
      // every run fails with it.
      running.delete(jobId);
      if (stopping && controller.signal.aborted) {
        if (token) await job.moveToWait(token);
        released();
        throw new WaitingError();
      }
      const error = oneLine((e as Error)?.message ?? String(e));
      for (const spec of specs) {
        emit({ type: "failed", spec, jobId, error, wallMs: wallMs() });
      }
      throw new Error(error);
    }
    running.delete(jobId);
    const stopped = results.some((r) =>
      !r.ok && !(r.error instanceof DivergedError)
    );
    if (stopping && controller.signal.aborted && stopped) {
      // Back to the queue; another worker resumes it from its checkpoints.
      if (token) await job.moveToWait(token);
      released();
      throw new WaitingError();
    }
    const entries: PackJobResult["results"][number][] = [];
    for (const [i, r] of results.entries()) {
      const spec = specs[i];
      if (r.ok || r.error instanceof DivergedError) {
        await stores[i].clear().catch(() => {});
      }
      if (r.ok) {
        emit({ type: "done", spec, record: r.record, wallMs: wallMs() });
        entries.push({ record: r.record });
        continue;
      }
      const error = oneLine((r.error as Error)?.message ?? String(r.error));
      emit({ type: "failed", spec, jobId, error, wallMs: wallMs() });
      entries.push({ error });
    }
    if (!single) return { results: entries };
    const [only] = entries;
    if (only.error !== undefined) throw new Error(only.error);
    return only.record;
  };

  const worker = new Worker<unknown, RunRecord | PackJobResult>(
    options.queueName ?? QUEUE_NAME,
    processJob,
    {
      connection: connectionOptions(target),
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockMs ?? 15_000,
      stalledInterval: options.stalledCheckMs ?? 5_000,
      maxStalledCount: options.maxStalledCount ?? 5,
      autorun: false,
    },
  );
  let lastError = "";
  worker.on("error", (e) => {
    const message = `queue ${target.url}: ${oneLine(e.message)}`;
    if (message !== lastError) emit({ type: "error", message });
    lastError = message;
  });
  worker.on("stalled", (jobId) => emit({ type: "stalled", jobId }));
  // A lock that could not be renewed may already be another worker's job:
  // stop training it here.
  worker.on("lockRenewalFailed", (jobIds) => {
    for (const id of jobIds) running.get(id)?.abort("lost the job's lock");
  });
  const done = worker.run().catch((e) =>
    emit({
      type: "error",
      message: `queue ${target.url}: ${oneLine(e.message)}`,
    })
  );
  await worker.waitUntilReady();
  emit({ type: "ready" });
  return {
    async close() {
      stopping = true;
      for (const c of running.values()) c.abort("worker stopping");
      await worker.close();
      await done;
    },
  };
}

/** An `executeRuns` that trains a job's runs one after another with `run`. */
function oneByOne(
  run: (spec: RunSpec, options: ExecuteOptions) => Promise<RunRecord>,
): (
  specs: readonly RunSpec[],
  options: ExecuteRunsOptions,
) => Promise<ExecuteResult[]> {
  return async (specs, o) => {
    const results: ExecuteResult[] = [];
    for (const [i, spec] of specs.entries()) {
      try {
        const record = await run(spec, {
          ...o,
          onStep: o.onStep && ((info) => o.onStep!(i, info)),
          onNote: o.onNote && ((note) => o.onNote!(i, note)),
          checkpoints: o.checkpoints && {
            store: o.checkpoints.store(spec, i),
            every: o.checkpoints.every,
          },
        });
        results.push({ ok: true, record, replicas: 1 });
      } catch (error) {
        results.push({ ok: false, error });
      }
    }
    return results;
  };
}

function oneLine(text: string): string {
  return String(text).replace(/\s*\n\s*/g, " ");
}
