/**
 * Submitting runs to the queue and collecting their records. Each run is one
 * BullMQ job whose id is its run key, or one of a pack of runs trained
 * together as one job (id {@link packJobId}), so a run is queued at most once
 * across every submitter and worker of the cluster (as long as they pack it
 * alike), and a run the queue already completed is answered from the job's
 * stored return value (its record) without training again. The caller writes
 * the records.
 *
 * @module
 */

import { type Job, Queue, QueueEvents } from "bullmq";
import type { RunSpec } from "../experiment/plan.ts";
import { parseRecord } from "../experiment/records.ts";
import { checkRedis, connectionOptions, parseRedisUrl } from "./connection.ts";
import {
  isDivergence,
  packJobData,
  packJobId,
  type PackJobResult,
  type PackProgress,
  QUEUE_NAME,
  type RunProgress,
  type RunResult,
} from "./jobs.ts";

/**
 * How long the queue keeps a finished run's job (its record or failure) for
 * later submissions: 30 days, enough for every submitter to collect and
 * write the record (a full-tier record is ~0.7 MB of Redis memory). After
 * that a submission of the same run trains it again, unless the caller has
 * its record already.
 */
export const KEEP_RESULTS_SECONDS = 30 * 24 * 3600;

/** What {@link submitRuns} reports while it waits. */
export type SubmitEvent =
  /** The run was added to the queue. */
  | { readonly type: "queued"; readonly spec: RunSpec }
  /** The run was in the queue already (waiting, active, delayed ...). */
  | { readonly type: "found"; readonly spec: RunSpec; readonly state: string }
  /**
   * The queue held an earlier failure (not a divergence) or an unusable
   * record of the run: it was queued again.
   */
  | { readonly type: "requeued"; readonly spec: RunSpec; readonly why: string }
  /** A worker started (or resumed) the run. */
  | { readonly type: "started"; readonly spec: RunSpec }
  | {
    readonly type: "progress";
    readonly spec: RunSpec;
    readonly progress: RunProgress;
  }
  /** The run finished (or was found finished). */
  | { readonly type: "result"; readonly result: RunResult }
  /** A Redis connection problem (the client keeps reconnecting). */
  | { readonly type: "error"; readonly message: string };

/** Options of {@link submitRuns}. */
export interface SubmitOptions {
  /** Told what happens to each run. */
  readonly onProgress?: (event: SubmitEvent) => void;
  /**
   * Stops waiting (the promise rejects with the abort reason); the runs
   * stay queued and a later submission collects them.
   */
  readonly signal?: AbortSignal;
  /** Default {@link QUEUE_NAME}. */
  readonly queueName?: string;
  /** How often unfinished runs are polled besides the queue's events (ms). */
  readonly pollMs?: number;
}

/**
 * Queues one job per spec (job id = run key; specs with the same key are
 * queued once) and waits until every run has completed or failed. Returns
 * one result per spec, in the order given: `{spec, record}` or
 * `{spec, error}` (a divergence's error starts with `diverged`). Runs
 * that the queue already completed come back at once (`reused: true`); an
 * earlier failure other than a divergence is queued again.
 *
 * Throws a one-line error when `url` is not `redis://HOST[:PORT][/DB]` or
 * no Redis server answers there.
 */
export function submitRuns(
  url: string,
  specs: readonly RunSpec[],
  options: SubmitOptions = {},
): Promise<RunResult[]> {
  return submitPacks(url, specs.map((s) => [s]), options);
}

/**
 * {@link submitRuns} for packs: each pack is one job whose runs a worker
 * trains together as replicates of one graph (a one-run pack is an ordinary
 * run's job). Returns one result per spec, packs flattened in order. A
 * completed pack job that holds a failure other than a divergence is queued
 * again whole by a later submission.
 */
export async function submitPacks(
  url: string,
  packs: readonly (readonly RunSpec[])[],
  options: SubmitOptions = {},
): Promise<RunResult[]> {
  const target = parseRedisUrl(url);
  await checkRedis(target);
  const connection = connectionOptions(target);
  const name = options.queueName ?? QUEUE_NAME;
  const emit = options.onProgress ?? (() => {});
  const signal = options.signal;
  const pollMs = options.pollMs ?? 5000;

  const byJob = new Map<string, readonly RunSpec[]>();
  for (const pack of packs) {
    if (pack.length === 0) continue;
    const id = await packJobId(pack);
    if (!byJob.has(id)) byJob.set(id, pack);
  }
  const results = new Map<string, RunResult>();
  const settled = new Set<string>();
  const dirty = new Set<string>();
  let wake = () => {};
  const mark = (jobId: string) => {
    if (byJob.has(jobId) && !settled.has(jobId)) {
      dirty.add(jobId);
      wake();
    }
  };

  const queue = new Queue(name, { connection });
  let events: QueueEvents | undefined;
  let lastError = "";
  const onError = (e: Error) => {
    const message = `queue ${target.url}: ${e.message}`;
    if (message !== lastError) emit({ type: "error", message });
    lastError = message;
  };
  queue.on("error", onError);
  /**
   * Listens from the queue's newest event on, so that no completion is
   * missed between looking at a job and the first read of the stream.
   */
  const listen = async () => {
    const lastEventId = await lastStreamId(
      await queue.client,
      queue.keys.events,
    );
    const e = events = new QueueEvents(name, { connection, lastEventId });
    e.on("error", onError);
    e.on("completed", ({ jobId }) => mark(jobId));
    e.on("failed", ({ jobId }) => mark(jobId));
    e.on("active", ({ jobId }) => {
      const specs = byJob.get(jobId);
      if (!specs || settled.has(jobId)) return;
      for (const spec of specs) emit({ type: "started", spec });
    });
    e.on("progress", ({ jobId, data }) => {
      const specs = byJob.get(jobId);
      if (!specs || settled.has(jobId) || typeof data !== "object") return;
      if (specs.length === 1) {
        emit({
          type: "progress",
          spec: specs[0],
          progress: data as RunProgress,
        });
        return;
      }
      const runs = (data as PackProgress).runs;
      for (const [i, spec] of specs.entries()) {
        const progress = Array.isArray(runs) ? runs[i] : null;
        if (progress) emit({ type: "progress", spec, progress });
      }
    });
    await e.waitUntilReady();
  };

  const settle = (jobId: string, jobResults: readonly RunResult[]) => {
    settled.add(jobId);
    for (const result of jobResults) {
      results.set(result.spec.key, result);
      emit({ type: "result", result });
    }
  };
  const keep = { age: KEEP_RESULTS_SECONDS };
  const add = (jobId: string, specs: readonly RunSpec[]) =>
    queue.add(specs[0].hypothesisId, packJobData(specs), {
      jobId,
      removeOnComplete: keep,
      removeOnFail: keep,
    });

  /** Looks at a job; settles its runs when finished. */
  const inspect = async (
    jobId: string,
    specs: readonly RunSpec[],
    submitting: boolean,
  ): Promise<void> => {
    const state = await queue.getJobState(jobId);
    if (state === "unknown") { // not there (never added, or removed)
      await add(jobId, specs);
      for (const spec of specs) {
        emit(
          submitting
            ? { type: "queued", spec }
            : { type: "requeued", spec, why: "its job was removed" },
        );
      }
      return;
    }
    if (state !== "completed" && state !== "failed") {
      if (submitting) {
        for (const spec of specs) emit({ type: "found", spec, state });
      }
      return;
    }
    const job = await queue.getJob(jobId);
    if (!job) return inspect(jobId, specs, submitting); // removed meanwhile
    if (state === "completed") {
      const jobResults = specs.length === 1
        ? [resultOf(specs[0], job.returnvalue, submitting)]
        : packResultsOf(specs, job, submitting);
      const retry = jobResults.find((r) =>
        r.error !== undefined && !isDivergence(r.error)
      );
      if (!retry || !submitting) return settle(jobId, jobResults);
      await job.remove();
      await add(jobId, specs);
      for (const spec of specs) {
        emit({ type: "requeued", spec, why: retry.error! });
      }
      return;
    }
    const error = job.failedReason || "failed (no reason given)";
    if (!submitting || isDivergence(error)) {
      return settle(
        jobId,
        specs.map((spec) => ({ spec, error, reused: submitting })),
      );
    }
    await job.retry("failed");
    for (const spec of specs) emit({ type: "requeued", spec, why: error });
  };

  try {
    await listen();
    for (const [jobId, specs] of byJob) {
      signal?.throwIfAborted();
      await inspect(jobId, specs, true);
    }
    let nextPoll = Date.now() + pollMs;
    while (settled.size < byJob.size) {
      signal?.throwIfAborted();
      if (dirty.size === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.max(0, nextPoll - Date.now()));
          signal?.addEventListener("abort", done);
          wake = done;
          function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            wake = () => {};
            resolve();
          }
        });
        signal?.throwIfAborted();
      }
      let ids: string[];
      if (Date.now() >= nextPoll) {
        ids = [...byJob.keys()].filter((k) => !settled.has(k));
        nextPoll = Date.now() + pollMs;
      } else ids = [...dirty];
      dirty.clear();
      for (const id of ids) {
        if (!settled.has(id)) await inspect(id, byJob.get(id)!, false);
      }
    }
  } finally {
    await Promise.allSettled([events?.close(), queue.close()]);
  }
  return packs.flatMap((p) => p.map((s) => results.get(s.key)!));
}

/** A run's record from a job's return value, checked; an error entry if unusable. */
function resultOf(spec: RunSpec, value: unknown, reused: boolean): RunResult {
  const where = `the queue's record of ${spec.key.slice(0, 12)}`;
  try {
    const record = parseRecord(JSON.stringify(value), where);
    if (record.key !== spec.key) {
      throw new Error(`${where} has run key ${record.key.slice(0, 12)}`);
    }
    return { spec, record, reused };
  } catch (e) {
    return { spec, error: (e as Error).message, reused };
  }
}

/** Each run's result from a completed pack job ({@link PackJobResult}). */
function packResultsOf(
  specs: readonly RunSpec[],
  job: Job,
  reused: boolean,
): RunResult[] {
  const entries = (job.returnvalue as PackJobResult | null)?.results;
  return specs.map((spec, i): RunResult => {
    const entry = Array.isArray(entries) ? entries[i] : undefined;
    if (entry === undefined || entry === null) {
      return {
        spec,
        error: `the queue's result of pack ${job.id} lacks run ${i + 1}`,
        reused,
      };
    }
    if (typeof entry.error === "string") {
      return { spec, error: entry.error, reused };
    }
    return resultOf(spec, entry.record, reused);
  });
}

/**
 * The id of a Redis stream's newest entry (`0-0` when empty), or undefined
 * (read from `$`) when the client is not ioredis, which BullMQ's client
 * interface leaves out XREVRANGE for.
 */
async function lastStreamId(
  client: unknown,
  key: string,
): Promise<string | undefined> {
  const c = client as {
    xrevrange?: (
      key: string,
      end: string,
      start: string,
      count: "COUNT",
      n: number,
    ) => Promise<[string, string[]][]>;
  };
  if (typeof c.xrevrange !== "function") return undefined;
  const [newest] = await c.xrevrange(key, "+", "-", "COUNT", 1);
  return newest?.[0] ?? "0-0";
}
