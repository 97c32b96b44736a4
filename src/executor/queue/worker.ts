/**
 * A queue worker: takes runs off the BullMQ queue (one job per run), trains
 * them with {@link executeRuns} (nothing written locally: the records are
 * the jobs' return values), keeps each run's checkpoints in Redis, and
 * reports progress every few seconds. A run its submitter packed
 * (`replicas: R`) comes with its pack mates: the worker takes up to R - 1
 * further jobs queued right behind it with the same backend, tier and R and
 * trains them as replicates of one graph (fewer, if other workers took
 * some; on a backend where the graph's size changes the numbers, ghost
 * replicates fill it to the R the keys name). BullMQ's stalled-job
 * detection returns the jobs of a worker that died (their locks are no
 * longer renewed) to the queue, and the next worker resumes each from its
 * last checkpoint.
 *
 * @module
 */

import { type Job, WaitingError, Worker } from "bullmq";
import {
  type ExecuteOptions,
  type ExecuteResult,
  executeRuns,
  type ExecuteRunsOptions,
} from "../execute.ts";
import type { RunSpec } from "../plan.ts";
import type { RunRecord } from "../../hypothesis/types.ts";
import { DivergedError } from "../../runtime/divergence.ts";
import { redisCheckpointStore } from "./checkpoints.ts";
import { checkRedis, connectionOptions, parseRedisUrl } from "./connection.ts";
import { asRunSpec, QUEUE_NAME, type RunProgress } from "./jobs.ts";

/** How often a run pauses for 1 ms so that the worker's sockets are read. */
const PAUSE_EVERY_MS = 250;

/** What a worker reports. */
export type WorkerEvent =
  /** Connected; waiting for jobs. */
  | { readonly type: "ready" }
  /**
   * A run started; `stalls`: how often its job was found abandoned before;
   * `pack`: runs trained together with it, itself included (1: alone).
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
   * What trains a pack of runs (default {@link executeRuns}). Tests pass a
   * fake here, or a fake of one run in {@link WorkerOptions.execute}.
   */
  readonly executePack?: (
    specs: readonly RunSpec[],
    options: ExecuteRunsOptions,
  ) => Promise<ExecuteResult[]>;
  /**
   * A fake of `executeRun` for tests: the runs of a pack are trained one
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
   * current step and returns their jobs to the queue (they resume elsewhere
   * from their last checkpoints), then disconnects.
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
  const lockMs = options.lockMs ?? 15_000;
  const maxPack = options.maxPack ?? 64;
  const gatherMs = options.gatherMs ?? 1000;
  /** The controller of the pack holding each job this worker trains. */
  const packOf = new Map<string, AbortController>();
  let stopping = false;
  let mateTokens = 0;

  /** A job of the pack being trained, and the token its lock is held with. */
  interface Member {
    readonly job: Job<unknown, RunRecord>;
    readonly token: string;
    readonly spec: RunSpec;
    /** Taken by this worker's job processor (false: taken as a pack mate). */
    readonly lead: boolean;
  }

  /**
   * Takes the pack mates queued right behind `lead`: jobs with its backend,
   * tier and R, up to R runs in all. The first job that is not one goes
   * back to the head of the queue, and the search ends there; so does an
   * empty queue once `gatherMs` have passed.
   */
  const takeMates = async (lead: RunSpec): Promise<Member[]> => {
    const R = Math.min(lead.replicas ?? 1, maxPack);
    const mates: Member[] = [];
    const until = performance.now() + gatherMs;
    while (mates.length + 1 < R && !stopping) {
      const token = `${worker.id}:mate:${mateTokens++}`;
      const job = await worker.getNextJob(token, { block: false }) as
        | Job<unknown, RunRecord>
        | undefined;
      if (!job) {
        // A submitter queues a pack's runs one after another: a worker
        // waiting for work may take the first before the rest are there.
        if (performance.now() >= until) break;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      let spec: RunSpec | null = null;
      try {
        spec = asRunSpec(job.data);
      } catch { /* not a run: its own job processor will say so */ }
      if (
        spec === null || spec.backend !== lead.backend ||
        spec.tier !== lead.tier ||
        (spec.replicas ?? 1) !== (lead.replicas ?? 1)
      ) {
        await job.moveToWait(token);
        break;
      }
      mates.push({ job, token, spec, lead: false });
    }
    return mates;
  };

  const processJob = async (
    job: Job<unknown, RunRecord>,
    token?: string,
  ): Promise<RunRecord> => {
    const t0 = performance.now();
    const wallMs = () => Math.round(performance.now() - t0);
    const jobId = job.id ?? "?";
    let lead: RunSpec;
    try {
      lead = asRunSpec(job.data);
    } catch (e) {
      const error = (e as Error).message;
      emit({ type: "failed", spec: null, jobId, error, wallMs: wallMs() });
      throw e;
    }
    const controller = new AbortController();
    packOf.set(jobId, controller);
    const members: Member[] = [
      { job, token: token ?? "", spec: lead, lead: true },
    ];
    // Mates' locks are this function's to renew (BullMQ renews the lead's).
    const renewals: ReturnType<typeof setInterval>[] = [];
    try {
      for (const mate of await takeMates(lead)) {
        members.push(mate);
        packOf.set(mate.job.id!, controller);
        renewals.push(setInterval(() => {
          // 0: another worker holds it now. A Redis error is not a loss:
          // the next renewal tells.
          mate.job.extendLock(mate.token, lockMs).then(
            (ok) => {
              if (!ok) controller.abort("lost a pack mate's lock");
            },
            (e) =>
              emit({
                type: "error",
                message: `lock of ${mate.job.id}: ${
                  oneLine((e as Error).message)
                }`,
              }),
          );
        }, lockMs / 2));
      }
      return await trainPack(members, controller, t0);
    } finally {
      for (const r of renewals) clearInterval(r);
      for (const m of members) packOf.delete(m.job.id!);
    }
  };

  /**
   * Trains a pack (the lead's job first) and settles every job: mates'
   * here, the lead's by what this returns or throws.
   */
  const trainPack = async (
    members: readonly Member[],
    controller: AbortController,
    t0: number,
  ): Promise<RunRecord> => {
    const wallMs = () => Math.round(performance.now() - t0);
    const specs = members.map((m) => m.spec);
    for (const m of members) {
      emit({
        type: "start",
        spec: m.spec,
        stalls: m.job.stalledCounter ?? 0,
        pack: members.length,
      });
    }
    const client = await worker.client;
    const stores = specs.map((s) => redisCheckpointStore(client, s.key));
    const lastStep = specs.map(() => 0);
    const progress: (RunProgress | null)[] = specs.map(() => null);
    let lastSent = -Infinity, lastPause = performance.now();
    const report = () => {
      lastSent = performance.now();
      for (const [i, m] of members.entries()) {
        if (progress[i] === null) continue;
        m.job.updateProgress(progress[i] as unknown as object).catch((e) =>
          emit({ type: "error", message: `progress: ${(e as Error).message}` })
        );
      }
    };
    /** Back to the queue: another worker resumes from the checkpoints. */
    const release = async (which: readonly number[]) => {
      // Each goes to the head of the queue: the last first, so that the
      // pack lies there in its order.
      for (const i of [...which].reverse()) {
        const m = members[i];
        await m.job.moveToWait(m.token).catch(() => {});
        emit({
          type: "released",
          spec: m.spec,
          step: lastStep[i],
          wallMs: wallMs(),
        });
      }
    };
    const settleMate = async (m: Member, r: RunRecord | string) => {
      const done = typeof r === "string"
        ? m.job.moveToFailed(new Error(r), m.token, false)
        : m.job.moveToCompleted(r, m.token, false);
      await done.catch((e) =>
        emit({
          type: "error",
          message: `${m.job.id}: ${oneLine((e as Error).message)}`,
        })
      );
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
      if (controller.signal.aborted) {
        await release(members.map((_, i) => i));
        throw new WaitingError();
      }
      const error = oneLine((e as Error)?.message ?? String(e));
      for (const m of members) {
        emit({
          type: "failed",
          spec: m.spec,
          jobId: m.job.id!,
          error,
          wallMs: wallMs(),
        });
        if (!m.lead) await settleMate(m, error);
      }
      throw new Error(error);
    }
    // Runs stopped mid-way (the worker stopping, a lost lock) go back to
    // the queue; the others are settled.
    const stopped = results.flatMap((r, i) =>
      !r.ok && !(r.error instanceof DivergedError) && controller.signal.aborted
        ? [i]
        : []
    );
    await release(stopped);
    let leadOutcome: RunRecord | Error | WaitingError = new WaitingError();
    for (const [i, r] of results.entries()) {
      if (stopped.includes(i)) continue;
      const m = members[i];
      if (r.ok || r.error instanceof DivergedError) {
        await stores[i].clear().catch(() => {});
      }
      let outcome: RunRecord | string;
      if (r.ok) {
        emit({
          type: "done",
          spec: m.spec,
          record: r.record,
          wallMs: wallMs(),
        });
        outcome = r.record;
      } else {
        outcome = oneLine((r.error as Error)?.message ?? String(r.error));
        emit({
          type: "failed",
          spec: m.spec,
          jobId: m.job.id!,
          error: outcome,
          wallMs: wallMs(),
        });
      }
      if (!m.lead) await settleMate(m, outcome);
      else {leadOutcome = typeof outcome === "string"
          ? new Error(outcome)
          : outcome;}
    }
    if (leadOutcome instanceof Error) throw leadOutcome;
    return leadOutcome;
  };

  const worker = new Worker<unknown, RunRecord>(
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
    const message = `queue ${target.url}: ${oneLine(e.message)}`;
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
      for (const c of new Set(packOf.values())) c.abort("worker stopping");
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
