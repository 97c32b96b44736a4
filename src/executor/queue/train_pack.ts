/**
 * Training a gathered pack on a queue worker: runs it with checkpoints in
 * Redis, sends each run's progress to its job (a `progress` RunEvent, read
 * back by the submitter), tells the worker each run's {@link RunEvent}s, and
 * settles every job by how its run ended: completed (with its record and
 * pack size, a {@link JobReturn}: a run that diverged completes with its
 * `diverged` record, verdict `invalid`, as a local run keeps it), failed,
 * or (stopped mid-way) released to the queue.
 *
 * @module
 */

import { WaitingError } from "bullmq";
import type { ExecutePack, ExecuteResult } from "../execute.ts";
import { isRunEnd, type RunEnd, type RunEvent } from "../events.ts";
import { type RunSpec, sameRun } from "../plan.ts";
import { DivergedError } from "../../runtime/divergence.ts";
import { type CheckpointClient, redisCheckpointStore } from "./checkpoints.ts";
import type { JobReturn } from "./jobs.ts";
import type { Member } from "./mates.ts";
import type { QueueEvent } from "./queue_events.ts";
import { releaseJobs, settleJob } from "./settle.ts";
import { oneLine } from "../../process/one_line.ts";
import { type DivergedRecords, divergedRecords } from "./diverged_records.ts";

/** How often a run pauses for 1 ms so that the worker's sockets are read. */
const PAUSE_EVERY_MS = 250;

/** Which of a worker's jobs a run event is about. */
export interface WorkerJob {
  /** The run's job id (its run key). */
  readonly id: string;
  /** Every run trained with it, itself included (`[spec]` when alone). */
  readonly pack: readonly RunSpec[];
  /** How often its job was found abandoned by a dead worker before. */
  readonly stalls: number;
  /** Since the worker took the pack (ms). */
  readonly wallMs: number;
}

/** A pack to train and what it is trained with. */
export interface PackJob {
  /** The lead's job first. */
  readonly members: readonly Member[];
  /** Stops training (the worker stopping, a lost lock). */
  readonly signal: AbortSignal;
  /** When the lead's job was taken (`performance.now()`). */
  readonly t0: number;
  /** Where the runs' checkpoints go (the worker's Redis client). */
  readonly client: CheckpointClient;
  /** What trains the pack (`executeRuns`, or a test's fake). */
  readonly execute: ExecutePack;
  /** cpu backend threads (default: all cores). */
  readonly threads: number | undefined;
  /** Steps between checkpoints. */
  readonly checkpointEvery: number;
  /** Progress goes to the jobs at most this often (ms). */
  readonly progressEveryMs: number;
  /** Told what happens to each run: its events and which job it is. */
  readonly emitRun: (e: RunEvent, job: WorkerJob) => void;
  /** Told of problems that are no run's (a refused update). */
  readonly emit: (e: QueueEvent) => void;
}

/**
 * Trains a pack and settles every job: mates' here, the lead's by what this
 * returns or throws (a `WaitingError` when it went back to the queue). Each
 * run's events are its `started`, what the pack reports of it (`progress`,
 * `checkpointed`, `note`) and its end: `finished`, `diverged`, `failed`, or
 * `stopped` when its job went back to the queue.
 */
export async function trainPack(p: PackJob): Promise<JobReturn> {
  const { members } = p;
  const specs = members.map((m) => m.spec);
  const tell = (i: number, e: RunEvent) =>
    p.emitRun(e, {
      id: members[i].job.id!,
      pack: specs,
      stalls: members[i].job.stalledCounter ?? 0,
      wallMs: Math.round(performance.now() - p.t0),
    });
  for (const [i, spec] of specs.entries()) tell(i, { type: "started", spec });
  const stores = specs.map((s) => redisCheckpointStore(p.client, s.key));
  const progress = progressReporter(p, tell);
  const release = (which: readonly number[]) =>
    releaseJobs(which.map((i) => members[i]), (m) => {
      const i = members.indexOf(m);
      tell(i, {
        type: "stopped",
        spec: m.spec,
        message: `stopped after step ${
          progress.lastStep(i)
        } (back in the queue)`,
      });
    });
  let results: ExecuteResult[];
  // Only a run that saves its record builds a diverged one: the records go
  // to a private folder, read back from there for the runs that diverged.
  await using diverged = await divergedRecords();
  try {
    results = await p.execute(specs, {
      threads: p.threads,
      signal: p.signal,
      saveRecord: true,
      recordsDir: diverged.dir,
      writeHistory: false,
      useCache: false,
      checkpoints: { store: (_, i) => stores[i], every: p.checkpointEvery },
      onEvent: progress.onEvent,
    });
  } catch (e) {
    // The pack could not start (a key mismatch, an unknown hypothesis):
    // every run fails with it.
    if (p.signal.aborted) {
      await release(members.map((_, i) => i));
      throw new WaitingError();
    }
    const message = oneLine(e);
    for (const [i, m] of members.entries()) {
      tell(i, { type: "failed", spec: m.spec, message });
      if (!m.lead) await settle(m, message, p.emit);
    }
    throw new Error(message);
  }
  // Runs stopped mid-way (the worker stopping, a lost lock) go back to the
  // queue; the others are settled.
  const stopped = results.flatMap((r, i) =>
    !r.ok && !(r.error instanceof DivergedError) && p.signal.aborted ? [i] : []
  );
  await release(stopped);
  let lead: JobReturn | Error = new WaitingError();
  for (const [i, r] of results.entries()) {
    if (stopped.includes(i)) continue;
    const m = members[i];
    const end = await endOf(m.spec, r, diverged);
    if (end.type !== "failed") await stores[i].clear().catch(() => {});
    tell(i, end);
    const outcome: JobReturn | string = end.type === "finished"
      ? { record: end.record, replicas: end.replicas }
      : end.type === "diverged" && end.record
      ? { record: end.record }
      : end.message;
    if (!m.lead) await settle(m, outcome, p.emit);
    else lead = typeof outcome === "string" ? new Error(outcome) : outcome;
  }
  if (lead instanceof Error) throw lead;
  return lead;
}

/**
 * How a run of the pack ended: a divergence comes with its `diverged`
 * record when the run saved one, and its job completes with it.
 */
async function endOf(
  spec: RunSpec,
  r: ExecuteResult,
  diverged: DivergedRecords,
): Promise<Exclude<RunEnd, { readonly type: "stopped" }>> {
  if (r.ok) {
    return {
      type: "finished",
      spec,
      record: r.record,
      replicas: r.replicas,
    };
  }
  const message = oneLine(r.error);
  if (!(r.error instanceof DivergedError)) {
    return { type: "failed", spec, message };
  }
  const record = await diverged.find(spec);
  return record
    ? {
      type: "diverged",
      spec,
      message: `${message} (recorded as invalid)`,
      record,
    }
    : { type: "diverged", spec, message };
}

async function settle(
  m: Member,
  outcome: JobReturn | string,
  emit: (e: QueueEvent) => void,
): Promise<void> {
  const error = await settleJob(m, outcome);
  if (error !== null) {
    emit({ type: "error", message: `${m.job.id}: ${oneLine(error)}` });
  }
}

/**
 * Handles a pack's run events: tells the worker each run's `progress`,
 * `checkpointed` and `note` (its start and end the worker tells itself),
 * sends each run's progress to its job every `progressEveryMs`; and while
 * training, the run pauses for 1 ms every 250 ms.
 */
function progressReporter(
  p: PackJob,
  tell: (i: number, e: RunEvent) => void,
) {
  const { members, emit } = p;
  const specs = members.map((m) => m.spec);
  /** Each run's latest progress (null: none yet). */
  const latest: (Extract<RunEvent, { type: "progress" }> | null)[] = specs
    .map(() => null);
  let lastSent = -Infinity, lastPause = performance.now();
  const indexOf = (spec: RunSpec) => specs.findIndex((s) => sameRun(s, spec));
  const report = () => {
    lastSent = performance.now();
    for (const [i, m] of members.entries()) {
      const e = latest[i];
      if (e === null) continue;
      m.job.updateProgress(e).catch((error) =>
        emit({ type: "error", message: `progress: ${oneLine(error)}` })
      );
    }
  };
  const onEvent = (e: RunEvent): Promise<void> | undefined => {
    const i = indexOf(e.spec);
    if (i < 0 || e.type === "started" || isRunEnd(e)) return undefined;
    tell(i, { ...e, spec: specs[i] });
    if (e.type !== "progress") return undefined;
    latest[i] = e;
    if (
      performance.now() - lastSent >= p.progressEveryMs || e.step === e.steps
    ) report();
    // While training, Deno's event loop rarely polls sockets: Redis
    // replies (this job's lock renewals) were seen waiting 10+ s under
    // load, long enough to lose the lock. A 1 ms pause every 250 ms lets
    // them in (the trainer awaits a promise returned here).
    if (performance.now() - lastPause < PAUSE_EVERY_MS) return undefined;
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        lastPause = performance.now();
        resolve();
      }, 1)
    );
  };
  return { onEvent, lastStep: (i: number) => latest[i]?.step ?? 0 };
}
