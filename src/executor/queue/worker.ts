/**
 * A queue worker: takes runs off the BullMQ queue (one job per run), trains
 * them with {@link executeRuns} (nothing written locally: the records are
 * the jobs' return values), keeps each run's checkpoints in Redis, sends
 * each run's progress to its job every few seconds, and tells its caller
 * each run's `RunEvent`s (`../events.ts`) like every executor. A run its
 * submitter packed (`replicas: R`) comes with its pack mates: the worker
 * takes up to R - 1 further jobs queued right behind it with the same
 * backend, tier and R (`mates.ts`) and trains them as replicates of one
 * graph (`train_pack.ts`; fewer, if other workers took some; on a backend
 * where the graph's size changes the numbers, ghost replicates fill it to
 * the R the keys name).
 * BullMQ renews the lock of the job it gave the worker; a {@link LockTracker}
 * renews the mates'. BullMQ's stalled-job detection returns the jobs of a
 * worker that died (their locks are no longer renewed) to the queue, and the
 * next worker resumes each from its last checkpoint.
 *
 * @module
 */

import { type Job, Worker } from "bullmq";
import {
  type ExecuteOptions,
  type ExecutePack,
  executeRuns,
} from "../execute.ts";
import { oneLine } from "../../process/one_line.ts";
import { checkRedis } from "./check.ts";
import {
  asTarget,
  connectionOptions,
  redact,
  type RedisTarget,
} from "./connection.ts";
import { asRunSpec, type JobReturn, QUEUE_NAME } from "./jobs.ts";
import { LockTracker } from "./lock_tracker.ts";
import { gatherMates, type Member } from "./mates.ts";
import type { QueueEvent } from "./queue_events.ts";
import { trainPack, type WorkerJob } from "./train_pack.ts";
import type { RunEvent } from "../events.ts";

export type { WorkerJob } from "./train_pack.ts";

/** Options of {@link startWorker}. */
export interface WorkerOptions extends Pick<ExecuteOptions, "threads"> {
  /**
   * Graphs trained at once by this worker, each one run or a pack of them
   * (default 1).
   */
  readonly concurrency?: number;
  /** The most runs trained together as one pack (default 64). */
  readonly maxPack?: number;
  /**
   * How long a worker that took a packed run waits for its mates to be
   * queued (ms, default 1,000) before it trains the ones it has.
   */
  readonly gatherMs?: number;
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
  /**
   * Told what happens to each run it trains (`started`, `progress`,
   * `checkpointed`, `note`, then `finished`, `diverged`, `failed`, or
   * `stopped` when its job went back to the queue), and which job it is.
   */
  readonly onRunEvent?: (event: RunEvent, job: WorkerJob) => void;
  /** Told what happens to the worker: ready, a stalled job, a problem. */
  readonly onQueueEvent?: (event: QueueEvent) => void;
}

/**
 * {@link WorkerOptions} and what only tests change: what trains a pack
 * (default {@link executeRuns}; tests pass a fake).
 */
export interface InternalWorkerOptions extends WorkerOptions {
  /** What trains a pack (default {@link executeRuns}). */
  readonly executePack?: ExecutePack;
}

/** A running worker. */
export interface QueueWorker {
  /**
   * Stops: takes no further job, stops the runs in progress after their
   * current step and returns their jobs to the queue (they resume elsewhere
   * from their last checkpoints), then disconnects.
   */
  close(): Promise<void>;
}

/**
 * Connects to the queue (a target from `access.ts`, or a URL without
 * secrets) and processes runs until closed. Throws a one-line error when
 * the URL is not `redis[s]://...`, or the server there does not answer or
 * refuses these settings (`check.ts`).
 */
export function startWorker(
  queue: string | RedisTarget,
  options: WorkerOptions = {},
): Promise<QueueWorker> {
  return startWorkerWith(queue, options);
}

/** {@link startWorker}, with the test hooks of {@link InternalWorkerOptions}. */
export async function startWorkerWith(
  queue: string | RedisTarget,
  options: InternalWorkerOptions,
): Promise<QueueWorker> {
  const target = asTarget(queue);
  await checkRedis(target);
  const tell = options.onQueueEvent ?? (() => {});
  // Messages from the Redis client are not ours to trust with the password.
  const emit = (e: QueueEvent) =>
    tell(e.type === "error" ? { ...e, message: redact(e.message, target) } : e);
  const lockMs = options.lockMs ?? 15_000;
  /** The controller of the pack holding each job this worker trains. */
  const packOf = new Map<string, AbortController>();
  let stopping = false;
  let mateTokens = 0;
  // Mates' locks are this worker's to renew (BullMQ renews the leads').
  const locks = new LockTracker({
    lockMs,
    onLost: (id) => packOf.get(id)?.abort("lost a pack mate's lock"),
    onError: (id, e) =>
      emit({ type: "error", message: `lock of ${id}: ${oneLine(e)}` }),
  });

  const processJob = async (
    job: Job<unknown, JobReturn>,
    token?: string,
  ): Promise<JobReturn> => {
    const t0 = performance.now();
    const jobId = job.id ?? "?";
    let lead;
    try {
      lead = asRunSpec(job.data);
    } catch (e) {
      // Not a run: no run event, its job fails.
      emit({ type: "error", message: `job ${jobId} failed: ${oneLine(e)}` });
      throw e;
    }
    const controller = new AbortController();
    packOf.set(jobId, controller);
    const members: Member[] = [
      { job, token: token ?? "", spec: lead, lead: true },
    ];
    try {
      const mates = await gatherMates(worker, lead, {
        maxPack: options.maxPack ?? 64,
        gatherMs: options.gatherMs ?? 1000,
        stopping: () => stopping,
        token: () => `${worker.id}:mate:${mateTokens++}`,
      });
      for (const mate of mates) {
        members.push(mate);
        packOf.set(mate.job.id!, controller);
        locks.track(mate.job.id!, mate.job, mate.token);
      }
      return await trainPack({
        members,
        signal: controller.signal,
        t0,
        client: await worker.client,
        execute: options.executePack ?? executeRuns,
        threads: options.threads,
        checkpointEvery: options.checkpointEvery ?? 500,
        progressEveryMs: options.progressEveryMs ?? 2000,
        emitRun: options.onRunEvent ?? (() => {}),
        emit,
      });
    } finally {
      for (const m of members) {
        locks.untrack(m.job.id!);
        packOf.delete(m.job.id!);
      }
    }
  };

  const worker = new Worker<unknown, JobReturn>(
    options.queueName ?? QUEUE_NAME,
    processJob,
    {
      connection: connectionOptions(target),
      concurrency: options.concurrency ?? 1,
      lockDuration: lockMs,
      stalledInterval: options.stalledCheckMs ?? 5_000,
      maxStalledCount: options.maxStalledCount ?? 5,
      autorun: false,
    },
  );
  let lastError = "";
  worker.on("error", (e) => {
    const message = `queue ${target.url}: ${oneLine(e)}`;
    if (message !== lastError) emit({ type: "error", message });
    lastError = message;
  });
  worker.on("stalled", (jobId) => emit({ type: "stalled", jobId }));
  // A lock that could not be renewed may already be another worker's job:
  // stop training it here.
  worker.on("lockRenewalFailed", (jobIds) => {
    for (const id of jobIds) packOf.get(id)?.abort("lost the job's lock");
  });
  const done = worker.run().catch((e) =>
    emit({ type: "error", message: `queue ${target.url}: ${oneLine(e)}` })
  );
  await worker.waitUntilReady();
  emit({ type: "ready" });
  return {
    async close() {
      stopping = true;
      for (const c of new Set(packOf.values())) c.abort("worker stopping");
      await worker.close();
      await done;
      locks.close();
    },
  };
}
