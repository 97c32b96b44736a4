/**
 * One pool job, run as its own process: executes the RunSpec given (as
 * JSON) in its first argument, or an array of them trained as one pack
 * (replicates of one graph where they share it), writing the records and
 * checkpoints like `deno task run`, and reports progress as JSON lines on
 * stdout, each naming the spec's position in the job (`index`):
 * `{"type":"step","index":0,...}`, then per spec `{"type":"done",...}`,
 * `{"type":"diverged",...}`, `{"type":"stopped",...}` or
 * `{"type":"error",...}`. An error without an index (the pack could not
 * start) is every spec's.
 * Exit status: 0 every run done, 3 every other run diverged (records kept as
 * invalid), 1 otherwise.
 *
 * @module
 */

import { fileCheckpointStore } from "../history/checkpoint.ts";
import { executeRuns } from "./execute.ts";
import type { RunSpec } from "./plan.ts";
import { CACHE_DIR } from "../history/locations.ts";
import { RunStoppedError } from "../run/run.ts";
import type { Hypothesis } from "../hypothesis/types.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { hypothesisById } from "../../hypotheses/mod.ts";
import { stopSignal } from "../process/lifeline.ts";

/** Exit status of a job whose runs that did not complete all diverged. */
export const DIVERGED_EXIT = 3;

/** Options a pool passes to a job (second argument, JSON). */
export interface JobOptions {
  readonly threads?: number;
  readonly recordsDir?: string;
  readonly checkpointEvery: number;
  /** Histories and checkpoints (default `CACHE_DIR`). */
  readonly cacheDir?: string;
  /**
   * Path or URL of a module whose default export is a list of hypotheses
   * the job may run besides `hypotheses/mod.ts`'s (tests).
   */
  readonly hypothesesModule?: string;
}

/** The checkpoint file of a pool run (one per run, packed or not). */
export function poolCheckpointPath(
  spec: RunSpec,
  cacheDir = CACHE_DIR,
): string {
  return `${cacheDir}/checkpoints/${spec.key}.ckpt`;
}

function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

async function main(): Promise<number> {
  const arg = JSON.parse(Deno.args[0]) as RunSpec | RunSpec[];
  const specs = Array.isArray(arg) ? arg : [arg];
  const opts = JSON.parse(Deno.args[1] ?? "{}") as JobOptions;
  const last = specs.map(() => 0);
  try {
    let hypothesis = hypothesisById;
    if (opts.hypothesesModule) {
      const extra = (await import(opts.hypothesesModule))
        .default as readonly Hypothesis[];
      hypothesis = (id) => extra.find((h) => h.id === id) ?? hypothesisById(id);
    }
    const results = await executeRuns(specs, {
      threads: opts.threads,
      recordsDir: opts.recordsDir,
      cacheDir: opts.cacheDir,
      signal: stopSignal(),
      hypothesis,
      checkpoints: opts.checkpointEvery > 0
        ? {
          store: (spec) =>
            fileCheckpointStore(poolCheckpointPath(spec, opts.cacheDir)),
          every: opts.checkpointEvery,
        }
        : undefined,
      onNote: (index, note) => emit({ type: "note", index, note }),
      onStep: (index, s) => {
        const now = performance.now();
        if (now - last[index] < 500 && s.step !== s.steps) return;
        last[index] = now;
        emit({
          type: "step",
          index,
          step: s.step,
          steps: s.steps,
          loss: s.loss,
        });
      },
    });
    let code = 0;
    for (const [index, r] of results.entries()) {
      if (r.ok) {
        emit({
          type: "done",
          index,
          verdict: r.record.verdict,
          C: r.record.final?.C,
          P: r.record.final?.P,
          wallMs: r.record.wallMs,
          replicas: r.replicas,
        });
        continue;
      }
      const message = (r.error as Error)?.message ?? String(r.error);
      if (r.error instanceof DivergedError) {
        emit({ type: "diverged", index, message });
        if (code === 0) code = DIVERGED_EXIT;
      } else {
        const stopped = r.error instanceof RunStoppedError;
        emit({ type: stopped ? "stopped" : "error", index, message });
        code = 1;
      }
    }
    return code;
  } catch (e) {
    emit({ type: "error", message: (e as Error).message });
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
