/**
 * The embedded default executor: a local pool of worker processes sharing
 * this machine's cores (onnxruntime threads split between them). Each job is
 * its own process (`job_main.ts`): one run, or a pack of runs trained as
 * replicates of one graph (see `packRuns` in plan.ts). A crash touches one
 * job, a divergence one run; each run writes its own record and
 * checkpoints, so a killed pool resumes from the checkpoints when started
 * again. A job reports {@link RunEvent}s as JSON lines, read back with
 * `parseRunEvent`, and the pool hands them on to its caller unchanged.
 *
 * @module
 */

import type { ExecuteOptions } from "./execute.ts";
import {
  isRunEnd,
  parseRunEvent,
  type RunEnd,
  type RunEvent,
} from "./events.ts";
import { type RunSpec, sameRun } from "./plan.ts";
import { DIVERGED_EXIT, type JobOptions } from "./job_main.ts";
import { startChild } from "../process/child_process.ts";

/** Where an event of the pool comes from: a worker slot and its job. */
export interface PoolJob {
  /** 0-based worker slot. */
  readonly worker: number;
  /** Every run of the job (`[spec]` when it trains alone). */
  readonly pack: readonly RunSpec[];
}

/**
 * Options of {@link runPool}; `threads` (per worker) defaults to cores /
 * workers, at least 1.
 */
export interface PoolOptions
  extends Omit<JobOptions, "checkpointEvery">, Pick<ExecuteOptions, "signal"> {
  /** Worker processes (at most one per job). */
  readonly workers: number;
  /** Steps between checkpoints (default 250; 0: none). */
  readonly checkpointEvery?: number;
  /**
   * Told every run's events: `started` for all runs of a job when its
   * process starts, then what the job reports, and each run's end.
   */
  readonly onEvent?: (event: RunEvent, job: PoolJob) => void;
}

const JOB = new URL("./job_main.ts", import.meta.url).pathname;

/**
 * Runs `jobs` (each one spec, or a pack of specs trained together) on a pool
 * of `workers` processes; resolves when all ended, with each spec's last
 * event in the order given (specs of jobs never started, after a stop of the
 * pool or of one of its jobs, have none).
 */
export async function runPool(
  jobs: readonly (RunSpec | readonly RunSpec[])[],
  options: PoolOptions,
): Promise<RunEnd[]> {
  const packs = jobs.map((j): readonly RunSpec[] => "key" in j ? [j] : j);
  const workers = Math.max(1, Math.min(options.workers, packs.length || 1));
  const cores = navigator.hardwareConcurrency || 1;
  const { workers: _, onEvent, signal, ...rest } = options;
  const jobOptions: JobOptions = {
    ...rest,
    threads: options.threads ?? Math.max(1, Math.floor(cores / workers)),
    checkpointEvery: options.checkpointEvery ?? 250,
  };
  const results: RunEnd[][] = new Array(packs.length);
  let next = 0;
  // A job whose run was stopped was stopped from outside (a signal to the
  // job, or the pool's parent ending, which the jobs notice first): no
  // further job is started, as after a stop of the pool itself.
  let stopped = false;
  const loop = async (worker: number) => {
    while (next < packs.length && !signal?.aborted && !stopped) {
      const job = next++;
      const emit = (e: RunEvent) => onEvent?.(e, { worker, pack: packs[job] });
      results[job] = await runJob(packs[job], jobOptions, { emit, signal });
      if (results[job].some((e) => e.type === "stopped")) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return results.flatMap((r) => r ?? []);
}

/** Runs one job's process; returns each run's last event. */
async function runJob(
  pack: readonly RunSpec[],
  jobOptions: JobOptions,
  { emit, signal }: {
    readonly emit: (e: RunEvent) => void;
    readonly signal?: AbortSignal;
  },
): Promise<RunEnd[]> {
  for (const spec of pack) emit({ type: "started", spec });
  const ended: (RunEnd | undefined)[] = pack.map(() => undefined);
  /** The first line that was not a run event of this job. */
  let problem: string | undefined;
  /** The job's last line on stderr saying why it failed or stopped. */
  let why: string | undefined;
  const onLine = (line: string) => {
    let e: RunEvent;
    try {
      e = parseRunEvent(line);
    } catch (error) {
      problem ??= error instanceof Error ? error.message : String(error);
      return;
    }
    const i = pack.findIndex((s) => sameRun(s, e.spec));
    if (i < 0) {
      problem ??= `the job reported a run it does not hold: ${e.spec.key}`;
    } else if (!isRunEnd(e)) {
      emit(e);
    } else if (e.type === "failed" && signal?.aborted) {
      // A stop can fail a run in ways other than RunStoppedError.
      ended[i] = { type: "stopped", spec: e.spec, message: e.message };
    } else {
      ended[i] = e;
    }
  };
  // A stop sends SIGTERM: the job stops its runs after their current step
  // and saves their checkpoints (SIGKILL only if it hangs).
  const child = startChild(Deno.execPath(), {
    args: [
      "run",
      "-A",
      JOB,
      JSON.stringify(pack.length === 1 ? pack[0] : pack),
      JSON.stringify(jobOptions),
    ],
    env: { NO_COLOR: "1" },
    onStdout: onLine,
    onStderr: (line) => {
      if (line.startsWith("error") || line.startsWith("stopped")) why = line;
    },
    signal,
  });
  const { code } = await child.done;
  return pack.map((spec, i) => {
    const end = ended[i] ?? silentEnd(spec, {
      code,
      stopped: signal?.aborted ?? false,
      message: why ?? problem ?? `exit ${code}`,
    });
    emit(end);
    return end;
  });
}

/**
 * The end of a run its job said nothing final about: the job's exit tells
 * (a crash, a kill, a divergence the job could not report).
 */
function silentEnd(
  spec: RunSpec,
  { code, stopped, message }: {
    readonly code: number;
    readonly stopped: boolean;
    readonly message: string;
  },
): RunEnd {
  if (code === DIVERGED_EXIT) return { type: "diverged", spec, message };
  if (stopped) return { type: "stopped", spec, message };
  if (code === 0) {
    return {
      type: "failed",
      spec,
      message: "the job ended without reporting the run",
    };
  }
  return { type: "failed", spec, message };
}
