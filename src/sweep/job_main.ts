/**
 * One pool job, run as its own process: executes the RunSpec given (as
 * JSON) in its first argument, writing the record and checkpoints like
 * `deno task run`, and reports progress as JSON lines on stdout:
 * `{"type":"step",...}`, then `{"type":"done",...}` or `{"type":"diverged",...}`.
 * Exit status: 0 done, 3 diverged (record kept as invalid), 1 error.
 *
 * @module
 */

import { fileCheckpointStore } from "../experiment/checkpoint.ts";
import { executeRun } from "../experiment/execute.ts";
import type { RunSpec } from "../experiment/plan.ts";
import { CACHE_DIR } from "../experiment/locations.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { stopSignal } from "../cli/lifeline.ts";

/** Exit status of a job whose run diverged. */
export const DIVERGED_EXIT = 3;

/** Options a pool passes to a job (second argument, JSON). */
export interface JobOptions {
  readonly threads?: number;
  readonly recordsDir?: string;
  readonly checkpointEvery: number;
}

function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

async function main(): Promise<number> {
  const spec = JSON.parse(Deno.args[0]) as RunSpec;
  const opts = JSON.parse(Deno.args[1] ?? "{}") as JobOptions;
  let last = 0;
  try {
    const record = await executeRun(spec, {
      threads: opts.threads,
      recordsDir: opts.recordsDir,
      signal: stopSignal(),
      checkpoints: opts.checkpointEvery > 0
        ? {
          store: fileCheckpointStore(
            `${CACHE_DIR}/checkpoints/${spec.key}.ckpt`,
          ),
          every: opts.checkpointEvery,
        }
        : undefined,
      onNote: (note) => emit({ type: "note", note }),
      onStep: (s) => {
        const now = performance.now();
        if (now - last < 500 && s.step !== s.steps) return;
        last = now;
        emit({ type: "step", step: s.step, steps: s.steps, loss: s.loss });
      },
    });
    emit({
      type: "done",
      verdict: record.verdict,
      C: record.final?.C,
      P: record.final?.P,
      wallMs: record.wallMs,
    });
    return 0;
  } catch (e) {
    if (e instanceof DivergedError) {
      emit({ type: "diverged", message: e.message });
      return DIVERGED_EXIT;
    }
    emit({ type: "error", message: (e as Error).message });
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
