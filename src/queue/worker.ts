/**
 * A queue worker: takes runs off the BullMQ queue, trains them with
 * {@link executeRun} (nothing written locally: the record is the job's
 * return value), keeps checkpoints in Redis, and reports progress every few
 * seconds. BullMQ's stalled-job detection returns the job of a worker that
 * died (its lock is no longer renewed) to the queue, and the next worker
 * resumes it from its last checkpoint.
 *
 * @module
 */

import { type Job, WaitingError, Worker } from "bullmq";
import { type ExecuteOptions, executeRun } from "../experiment/execute.ts";
import type { RunSpec } from "../experiment/plan.ts";
import type { RunRecord } from "../experiment/types.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { redisCheckpointStore } from "./checkpoints.ts";
import { checkRedis, connectionOptions, parseRedisUrl } from "./connection.ts";
import { asRunSpec, QUEUE_NAME, type RunProgress } from "./jobs.ts";

/** How often a run pauses for 1 ms so that the worker's sockets are read. */
const PAUSE_EVERY_MS = 250;

/** What a worker reports. */
export type WorkerEvent =
  /** Connected; waiting for jobs. */
  | { readonly type: "ready" }
  /** A run started; `stalls`: how often it was found abandoned before. */
  | {
    readonly type: "start";
    readonly spec: RunSpec;
    readonly stalls: number;
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
  /** What trains a run (default {@link executeRun}; tests pass a fake). */
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
  const execute = options.execute ?? executeRun;
  const progressEveryMs = options.progressEveryMs ?? 2000;
  const running = new Map<string, AbortController>();
  let stopping = false;

  const processJob = async (
    job: Job<unknown, RunRecord>,
    token?: string,
  ): Promise<RunRecord> => {
    const t0 = performance.now();
    const wallMs = () => Math.round(performance.now() - t0);
    const jobId = job.id ?? "?";
    let spec: RunSpec;
    try {
      spec = asRunSpec(job.data);
    } catch (e) {
      const error = (e as Error).message;
      emit({ type: "failed", spec: null, jobId, error, wallMs: wallMs() });
      throw e;
    }
    emit({ type: "start", spec, stalls: job.stalledCounter ?? 0 });
    const store = redisCheckpointStore(await worker.client, spec.key);
    const controller = new AbortController();
    running.set(jobId, controller);
    let lastStep = 0, lastSent = -Infinity, lastPause = performance.now();
    let resumedFrom: number | null = null;
    const report = (p: RunProgress) => {
      lastSent = performance.now();
      job.updateProgress(p as unknown as object).catch((e) =>
        emit({ type: "error", message: `progress: ${(e as Error).message}` })
      );
    };
    try {
      const record = await execute(spec, {
        threads: options.threads,
        signal: controller.signal,
        saveRecord: false,
        writeHistory: false,
        useCache: false,
        checkpoints: { store, every },
        onNote: (text) => emit({ type: "note", spec, text }),
        onStep: (info) => {
          if (lastStep === 0 && info.step > 1) {
            resumedFrom = info.step - 1;
            emit({ type: "resumed", spec, step: resumedFrom });
          }
          lastStep = info.step;
          if (
            performance.now() - lastSent >= progressEveryMs ||
            info.step === info.steps
          ) {
            report({
              step: info.step,
              steps: info.steps,
              loss: info.loss,
              resumedFrom,
            });
          }
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
      await store.clear();
      emit({ type: "done", spec, record, wallMs: wallMs() });
      return record;
    } catch (e) {
      if (
        stopping && controller.signal.aborted && !(e instanceof DivergedError)
      ) {
        // Back to the queue; another worker resumes it from its checkpoint.
        if (token) await job.moveToWait(token);
        emit({ type: "released", spec, step: lastStep, wallMs: wallMs() });
        throw new WaitingError();
      }
      if (e instanceof DivergedError) {
        await store.clear().catch(() => {});
      }
      const error = oneLine((e as Error)?.message ?? String(e));
      emit({ type: "failed", spec, jobId, error, wallMs: wallMs() });
      throw new Error(error);
    } finally {
      running.delete(jobId);
    }
  };

  const worker = new Worker<unknown, RunRecord>(
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

function oneLine(text: string): string {
  return String(text).replace(/\s*\n\s*/g, " ");
}
