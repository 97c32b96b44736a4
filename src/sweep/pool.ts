/**
 * The embedded default executor: a local pool of worker processes sharing
 * this machine's cores (onnxruntime threads split between them). Each run is
 * its own process (`job_main.ts`), so a crash or divergence touches one run,
 * and each writes its own record and checkpoints; a killed pool resumes
 * from the checkpoints when started again.
 *
 * @module
 */

import type { RunSpec } from "../experiment/plan.ts";
import { DIVERGED_EXIT, type JobOptions } from "./job_main.ts";

/** What happened to one run of the pool. */
export interface PoolResult {
  readonly spec: RunSpec;
  readonly status: "done" | "diverged" | "error" | "stopped";
  /** The job's last message (error or divergence text). */
  readonly message?: string;
}

/** A progress event of a pool. */
export interface PoolEvent {
  /** 0-based worker slot. */
  readonly worker: number;
  readonly spec: RunSpec;
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
  readonly checkpointEvery?: number;
  readonly onEvent?: (e: PoolEvent) => void;
  /** Stops handing out runs and stops the running ones (they checkpoint). */
  readonly signal?: AbortSignal;
}

const JOB = new URL("./job_main.ts", import.meta.url).pathname;

/** Runs `specs` on a pool of `workers` processes; resolves when all ended. */
export async function runPool(
  specs: readonly RunSpec[],
  options: PoolOptions,
): Promise<PoolResult[]> {
  const workers = Math.max(1, Math.min(options.workers, specs.length || 1));
  const cores = navigator.hardwareConcurrency || 1;
  const threads = options.threads ?? Math.max(1, Math.floor(cores / workers));
  const jobOptions: JobOptions = {
    threads,
    recordsDir: options.recordsDir,
    checkpointEvery: options.checkpointEvery ?? 250,
  };
  const results: PoolResult[] = new Array(specs.length);
  let next = 0;
  const emit = options.onEvent ?? (() => {});

  const runOne = async (worker: number, index: number) => {
    const spec = specs[index];
    emit({ worker, spec, type: "start" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        JOB,
        JSON.stringify(spec),
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
    let message: string | undefined;
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
        if (ev.type === "step") {
          emit({
            worker,
            spec,
            type: "step",
            step: ev.step as number,
            steps: ev.steps as number,
            loss: ev.loss as number,
          });
        } else if (ev.type === "note") {
          emit({ worker, spec, type: "note", note: String(ev.note) });
        } else if (ev.type === "diverged" || ev.type === "error") {
          message = String(ev.message);
        }
      }
    }
    const { code } = await child.status;
    options.signal?.removeEventListener("abort", onAbort);
    const err = (await stderrText).trim().split("\n").filter((l) =>
      l.startsWith("error") || l.startsWith("stopped")
    ).at(-1);
    const status: PoolResult["status"] = code === 0
      ? "done"
      : code === DIVERGED_EXIT
      ? "diverged"
      : options.signal?.aborted
      ? "stopped"
      : "error";
    const result: PoolResult = {
      spec,
      status,
      message: message ?? err ?? (code === 0 ? undefined : `exit ${code}`),
    };
    results[index] = result;
    emit({ worker, spec, type: "end", result });
  };

  const loop = async (worker: number) => {
    while (next < specs.length && !options.signal?.aborted) {
      await runOne(worker, next++);
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return results.filter((r) => r !== undefined);
}
