/**
 * Submitting runs to the queue and collecting their records. Each run is one
 * BullMQ job whose id is its run key, so a run is queued at most once across
 * every submitter and worker of the cluster, however they pack it, and a run
 * the queue already completed is answered from the job's stored return value
 * (its record) without training again. Runs are queued in the order given,
 * so a pack's runs (`RunSpec.replicas` > 1) lie side by side and a worker
 * takes them together. What happens to a run is told as its `RunEvent`s
 * (`../events.ts`), what happens to its job as `QueueEvent`s. The caller
 * writes the records.
 *
 * @module
 */

import { Queue, QueueEvents } from "bullmq";
import type { RunSpec } from "../plan.ts";
import { checkRedis } from "./check.ts";
import {
  asTarget,
  connectionOptions,
  redact,
  type RedisTarget,
} from "./connection.ts";
import { isDivergence, jobEnd, QUEUE_NAME } from "./jobs.ts";
import type { QueueEvent } from "./queue_events.ts";
import { parseRunEvent, type RunEnd, type RunEvent } from "../events.ts";

/**
 * How long the queue keeps a finished run's job (its record or failure) for
 * later submissions: 30 days, enough for every submitter to collect and
 * write the record (a full-tier record is ~0.7 MB of Redis memory). After
 * that a submission of the same run trains it again, unless the caller has
 * its record already.
 */
export const KEEP_RESULTS_SECONDS = 30 * 24 * 3600;

/** Options of {@link submitRuns}. */
export interface SubmitOptions {
  /**
   * Told what happens to each run: `started` (a worker took or resumed
   * it), `progress` (every few seconds), and its end, as the run's
   * {@link RunEnd} that {@link submitRuns} returns.
   */
  readonly onRunEvent?: (event: RunEvent) => void;
  /** Told what happens to each run's job and to the connection. */
  readonly onQueueEvent?: (event: QueueEvent) => void;
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
 * queued once), in the order given, and waits until every run has completed
 * or failed. Returns each spec's run end, in the order given: `finished`
 * with its record, `diverged` (with its `diverged` record, unless an older
 * worker failed its job instead) or `failed`. Runs that the queue already
 * completed come back at once (`finished` with `replicas: 0`: nothing
 * trained for this submission); an earlier failure other than a divergence
 * is queued again.
 *
 * `queue` is a target (`access.ts` resolves one with its password) or a
 * URL without secrets. Throws a one-line error when the URL is not
 * `redis[s]://...`, or the server there does not answer or refuses these
 * settings (`check.ts`), before anything is queued.
 */
export async function submitRuns(
  where: string | RedisTarget,
  specs: readonly RunSpec[],
  options: SubmitOptions = {},
): Promise<RunEnd[]> {
  const target = asTarget(where);
  await checkRedis(target);
  const connection = connectionOptions(target);
  const name = options.queueName ?? QUEUE_NAME;
  const emitRun = options.onRunEvent ?? (() => {});
  const emit = options.onQueueEvent ?? (() => {});
  const signal = options.signal;
  const pollMs = options.pollMs ?? 5000;

  /** The runs to collect, by job id (= run key). */
  const byJob = new Map<string, RunSpec>();
  for (const spec of specs) if (!byJob.has(spec.key)) byJob.set(spec.key, spec);
  const results = new Map<string, RunEnd>();
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
    const message = redact(`queue ${target.url}: ${e.message}`, target);
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
      const spec = byJob.get(jobId);
      if (spec && !settled.has(jobId)) emitRun({ type: "started", spec });
    });
    e.on("progress", ({ jobId, data }) => {
      const spec = byJob.get(jobId);
      if (!spec || settled.has(jobId)) return;
      let event: RunEvent;
      try {
        event = parseRunEvent(JSON.stringify(data));
      } catch (error) {
        // A worker of another version: its progress is not shown.
        return onError(
          error instanceof Error ? error : new Error(String(error)),
        );
      }
      if (event.type === "progress") emitRun({ ...event, spec });
    });
    await e.waitUntilReady();
  };

  const settle = (jobId: string, end: RunEnd) => {
    settled.add(jobId);
    results.set(jobId, end);
    emitRun(end);
  };
  const keep = { age: KEEP_RESULTS_SECONDS };
  const add = (spec: RunSpec) =>
    queue.add(spec.hypothesisId, spec, {
      jobId: spec.key,
      removeOnComplete: keep,
      removeOnFail: keep,
    });

  const look: Lookup = { queue, add, settle, emit };
  try {
    await listen();
    for (const spec of byJob.values()) {
      signal?.throwIfAborted();
      await inspect(look, spec, true);
    }
    let nextPoll = Date.now() + pollMs;
    while (settled.size < byJob.size) {
      signal?.throwIfAborted();
      if (dirty.size === 0) {
        await sleepUntil(nextPoll, signal, (w) => wake = w);
        signal?.throwIfAborted();
      }
      let ids: string[];
      if (Date.now() >= nextPoll) {
        ids = [...byJob.keys()].filter((k) => !settled.has(k));
        nextPoll = Date.now() + pollMs;
      } else ids = [...dirty];
      dirty.clear();
      for (const id of ids) {
        if (!settled.has(id)) await inspect(look, byJob.get(id)!, false);
      }
    }
  } finally {
    await Promise.allSettled([events?.close(), queue.close()]);
  }
  return specs.map((s) => results.get(s.key)!);
}

/** What {@link inspect} looks at a job with and tells. */
interface Lookup {
  readonly queue: Queue;
  /** Queues the run's job. */
  add(spec: RunSpec): Promise<unknown>;
  /** The run is over: its end. */
  settle(jobId: string, end: RunEnd): void;
  readonly emit: (event: QueueEvent) => void;
}

/**
 * Looks at a run's job: queues it when missing (`submitting`: this
 * submission's first look), settles the run when finished, and queues it
 * again when it failed otherwise than by diverging, or its record is
 * unusable.
 */
async function inspect(
  look: Lookup,
  spec: RunSpec,
  submitting: boolean,
): Promise<void> {
  const { queue, add, settle, emit } = look;
  const jobId = spec.key;
  const state = await queue.getJobState(jobId);
  if (state === "unknown") { // not there (never added, or removed)
    await add(spec);
    emit(
      submitting
        ? { type: "queued", spec }
        : { type: "requeued", spec, why: "its job was removed" },
    );
    return;
  }
  if (state !== "completed" && state !== "failed") {
    if (submitting) emit({ type: "found", spec, state });
    return;
  }
  const job = await queue.getJob(jobId);
  if (!job) return inspect(look, spec, submitting); // removed meanwhile
  if (state === "completed") {
    let end: RunEnd;
    try {
      end = jobEnd(spec, job.returnvalue, submitting);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (!submitting) return settle(jobId, { type: "failed", spec, message });
      await job.remove();
      await add(spec);
      emit({ type: "requeued", spec, why: message });
      return;
    }
    return settle(jobId, end);
  }
  const message = job.failedReason || "failed (no reason given)";
  if (isDivergence(message)) {
    return settle(jobId, { type: "diverged", spec, message });
  }
  if (!submitting) return settle(jobId, { type: "failed", spec, message });
  await job.retry("failed");
  emit({ type: "requeued", spec, why: message });
}

/**
 * Resolves at `time` (`Date.now()` ms), on an abort, or when the function
 * handed to `setWake` is called (a job changed).
 */
function sleepUntil(
  time: number,
  signal: AbortSignal | undefined,
  setWake: (wake: () => void) => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, Math.max(0, time - Date.now()));
    signal?.addEventListener("abort", done);
    setWake(done);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      setWake(() => {});
      resolve();
    }
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
