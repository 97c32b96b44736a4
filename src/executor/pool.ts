/**
 * The embedded default executor: a local pool of worker processes sharing
 * this machine's cores (onnxruntime threads split between them). Each job is
 * its own process (`job_main.ts`): one run, or a pack of runs trained as
 * replicates of one graph (see `packRuns` in experiment/plan.ts). A crash
 * touches one job, a divergence one run; each run writes its own record and
 * checkpoints, so a killed pool resumes from the checkpoints when started
 * again.
 *
 * @module
 */

import type { RunSpec } from "./plan.ts";
import { DIVERGED_EXIT, type JobOptions } from "./job_main.ts";

/** What happened to one run of the pool. */
export interface PoolResult {
  readonly spec: RunSpec;
  readonly status: "done" | "diverged" | "error" | "stopped";
  /** The job's last message about this run (error or divergence text). */
  readonly message?: string;
  /**
   * Runs trained in one graph with it, itself included, when it completed
   * (1: alone; 0: its record was there already).
   */
  readonly replicas?: number;
}

/** A progress event of a pool, about one run. */
export interface PoolEvent {
  /** 0-based worker slot. */
  readonly worker: number;
  /** The run the event is about. */
  readonly spec: RunSpec;
  /** Every run of its job (`[spec]` when it trains alone). */
  readonly pack: readonly RunSpec[];
  /** `start` comes once per run, all of a pack's at its job's start. */
  readonly type: "start" | "step" | "note" | "end";
  readonly step?: number;
  readonly steps?: number;
  readonly loss?: number;
  readonly note?: string;
  readonly result?: PoolResult;
}

/** Options of {@link runPool}. */
export interface PoolOptions {
  readonly workers: number;
  /** onnxruntime threads per worker (default: cores / workers, at least 1). */
  readonly threads?: number;
  readonly recordsDir?: string;
  /** Histories and checkpoints (default `CACHE_DIR`). */
  readonly cacheDir?: string;
  readonly checkpointEvery?: number;
  readonly onEvent?: (e: PoolEvent) => void;
  /** Stops handing out jobs and stops the running ones (they checkpoint). */
  readonly signal?: AbortSignal;
  /** See {@link JobOptions.hypothesesModule} (tests). */
  readonly hypothesesModule?: string;
}

const JOB = new URL("./job_main.ts", import.meta.url).pathname;

/**
 * Runs `jobs` (each one spec, or a pack of specs trained together) on a pool
 * of `workers` processes; resolves when all ended, with one result per spec
 * in the order given (specs of jobs never started, after a stop, have none).
 */
export async function runPool(
  jobs: readonly (RunSpec | readonly RunSpec[])[],
  options: PoolOptions,
): Promise<PoolResult[]> {
  const packs = jobs.map((j) =>
    Array.isArray(j) ? j as readonly RunSpec[] : [j as RunSpec]
  );
  const workers = Math.max(1, Math.min(options.workers, packs.length || 1));
  const cores = navigator.hardwareConcurrency || 1;
  const threads = options.threads ?? Math.max(1, Math.floor(cores / workers));
  const jobOptions: JobOptions = {
    threads,
    recordsDir: options.recordsDir,
    cacheDir: options.cacheDir,
    checkpointEvery: options.checkpointEvery ?? 250,
    hypothesesModule: options.hypothesesModule,
  };
  const results: PoolResult[][] = new Array(packs.length);
  let next = 0;
  const emit = options.onEvent ?? (() => {});

  const runOne = async (worker: number, job: number) => {
    const pack = packs[job];
    for (const spec of pack) emit({ worker, spec, pack, type: "start" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        JOB,
        JSON.stringify(pack.length === 1 ? pack[0] : pack),
        JSON.stringify(jobOptions),
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const onAbort = () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
    };
    options.signal?.addEventListener("abort", onAbort);
    const ended: (
      | Omit<PoolResult, "spec">
      | undefined
    )[] = pack.map(() => undefined);
    let jobError: string | undefined;
    const stderrText = new Response(child.stderr).text();
    let buffer = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let ev: Record<string, unknown>;
        try {
          ev = JSON.parse(line);
        } catch {
          continue;
        }
        const index = ev.index as number | undefined;
        const spec = index === undefined ? undefined : pack[index];
        if (ev.type === "error" && index === undefined) {
          jobError = String(ev.message);
          continue;
        }
        if (spec === undefined) continue;
        if (ev.type === "step") {
          emit({
            worker,
            spec,
            pack,
            type: "step",
            step: ev.step as number,
            steps: ev.steps as number,
            loss: ev.loss as number,
          });
        } else if (ev.type === "note") {
          emit({ worker, spec, pack, type: "note", note: String(ev.note) });
        } else if (ev.type === "done") {
          ended[index!] = { status: "done", replicas: ev.replicas as number };
        } else if (
          ev.type === "diverged" || ev.type === "stopped" ||
          ev.type === "error"
        ) {
          ended[index!] = {
            status: ev.type === "error" && options.signal?.aborted
              ? "stopped"
              : ev.type as PoolResult["status"],
            message: String(ev.message),
          };
        }
      }
    }
    const { code } = await child.status;
    options.signal?.removeEventListener("abort", onAbort);
    const err = (await stderrText).trim().split("\n").filter((l) =>
      l.startsWith("error") || l.startsWith("stopped")
    ).at(-1);
    // A run the job said nothing final about: the job's exit tells (a
    // crash, a kill, a pack that could not start).
    const fallback: PoolResult["status"] = code === 0
      ? "done"
      : code === DIVERGED_EXIT
      ? "diverged"
      : options.signal?.aborted
      ? "stopped"
      : "error";
    results[job] = pack.map((spec, i) => {
      const e = ended[i];
      const result: PoolResult = e ? { spec, ...e } : {
        spec,
        status: fallback,
        message: jobError ?? err ?? (code === 0 ? undefined : `exit ${code}`),
      };
      emit({ worker, spec, pack, type: "end", result });
      return result;
    });
  };

  const loop = async (worker: number) => {
    while (next < packs.length && !options.signal?.aborted) {
      await runOne(worker, next++);
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return results.flatMap((r) => r ?? []);
}
