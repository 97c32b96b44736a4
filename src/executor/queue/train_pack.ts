/**
 * Training a gathered pack on a queue worker: runs it with checkpoints in
 * Redis, sends each run's progress to its job (a `progress` RunEvent, read
 * back by the submitter), and settles every job by how its run ended:
 * completed (with its record: a run that diverged completes with its
 * `diverged` record, verdict `invalid`, as a local run keeps it), failed,
 * or (stopped mid-way) released to the queue.
 *
 * @module
 */

import { WaitingError } from "bullmq";
import type { ExecutePack, ExecuteResult } from "../execute.ts";
import type { RunEvent } from "../events.ts";
import { runIdOf, type RunSpec } from "../plan.ts";
import type { RunRecord } from "../../hypothesis/types.ts";
import { DivergedError } from "../../runtime/divergence.ts";
import { type CheckpointClient, redisCheckpointStore } from "./checkpoints.ts";
import type { Member } from "./mates.ts";
import { releaseJobs, settleJob } from "./settle.ts";
import type { WorkerEvent } from "./worker_events.ts";
import { oneLine } from "../../process/one_line.ts";
import { divergedRecords } from "./diverged_records.ts";

/** How often a run pauses for 1 ms so that the worker's sockets are read. */
const PAUSE_EVERY_MS = 250;

/** A pack to train and what it is trained with. */
export interface PackJob {
  /** The lead's job first. */
  readonly members: readonly Member[];
  /** Aborted when the worker stops or loses a job's lock. */
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
  /** Told what happens, as the worker's events. */
  readonly emit: (e: WorkerEvent) => void;
}

/**
 * Trains a pack and settles every job: mates' here, the lead's by what this
 * returns or throws (a `WaitingError` when it went back to the queue).
 */
export async function trainPack(p: PackJob): Promise<RunRecord> {
  const { members, emit } = p;
  const wallMs = () => Math.round(performance.now() - p.t0);
  const specs = members.map((m) => m.spec);
  for (const m of members) {
    const stalls = m.job.stalledCounter ?? 0;
    emit({ type: "start", spec: m.spec, stalls, pack: members.length });
  }
  const stores = specs.map((s) => redisCheckpointStore(p.client, s.key));
  const progress = progressReporter(p);
  const release = (which: readonly number[]) =>
    releaseJobs(which.map((i) => members[i]), (m) => {
      const step = progress.lastStep(members.indexOf(m));
      emit({ type: "released", spec: m.spec, step, wallMs: wallMs() });
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
    const error = oneLine(e);
    for (const m of members) {
      const jobId = m.job.id!;
      emit({ type: "failed", spec: m.spec, jobId, error, wallMs: wallMs() });
      if (!m.lead) await settle(m, error, emit);
    }
    throw new Error(error);
  }
  // Runs stopped mid-way (the worker stopping, a lost lock) go back to the
  // queue; the others are settled.
  const stopped = results.flatMap((r, i) =>
    !r.ok && !(r.error instanceof DivergedError) && p.signal.aborted ? [i] : []
  );
  await release(stopped);
  let lead: RunRecord | Error = new WaitingError();
  for (const [i, r] of results.entries()) {
    if (stopped.includes(i)) continue;
    const m = members[i];
    const divergence = r.ok || !(r.error instanceof DivergedError)
      ? null
      : { error: oneLine(r.error), record: await diverged.find(m.spec) };
    if (r.ok || divergence) await stores[i].clear().catch(() => {});
    const outcome = r.ok ? r.record : divergence?.record ?? oneLine(r.error);
    if (divergence) {
      const jobId = m.job.id!;
      const error = `${divergence.error}${
        divergence.record ? " (recorded as invalid)" : ""
      }`;
      emit({ type: "failed", spec: m.spec, jobId, error, wallMs: wallMs() });
    } else if (typeof outcome === "string") {
      const jobId = m.job.id!;
      emit({
        type: "failed",
        spec: m.spec,
        jobId,
        error: outcome,
        wallMs: wallMs(),
      });
    } else {
      emit({ type: "done", spec: m.spec, record: outcome, wallMs: wallMs() });
    }
    if (!m.lead) await settle(m, outcome, emit);
    else lead = typeof outcome === "string" ? new Error(outcome) : outcome;
  }
  if (lead instanceof Error) throw lead;
  return lead;
}

async function settle(
  m: Member,
  outcome: RunRecord | string,
  emit: (e: WorkerEvent) => void,
): Promise<void> {
  const error = await settleJob(m, outcome);
  if (error !== null) {
    emit({ type: "error", message: `${m.job.id}: ${oneLine(error)}` });
  }
}

/**
 * Handles a pack's run events: notes and resumes go to the worker's
 * events, progress to each run's job every `progressEveryMs`; and while
 * training, the run pauses for 1 ms every 250 ms.
 */
function progressReporter(p: PackJob) {
  const { members, emit } = p;
  const specs = members.map((m) => m.spec);
  const steps = specs.map(() => 0);
  const latest: (RunEvent | null)[] = specs.map(() => null);
  let lastSent = -Infinity, lastPause = performance.now();
  const indexOf = (spec: RunSpec) =>
    specs.findIndex((s) =>
      s === spec || (s.key === spec.key && runIdOf(s) === runIdOf(spec))
    );
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
    if (i < 0) return undefined;
    if (e.type === "note") emit(e);
    if (e.type !== "progress") return undefined;
    if (steps[i] === 0 && e.step > 1) {
      emit({ type: "resumed", spec: specs[i], step: e.step - 1 });
    }
    steps[i] = e.step;
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
  return { onEvent, lastStep: (i: number) => steps[i] };
}
