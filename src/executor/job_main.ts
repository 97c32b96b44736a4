/**
 * One pool job, run as its own process: executes the RunSpec given (as
 * JSON) in its first argument, or an array of them trained as one pack
 * (replicates of one graph where they share it), writing the records and
 * checkpoints like `deno task run`, and reports each run's
 * {@link RunEvent}s as JSON lines on stdout (`formatRunEvent`): progress at
 * most twice a second, then each run's end (`finished`, `diverged`,
 * `stopped` or `failed`; a pack that could not start fails every run).
 * Exit status: 0 every run done, 3 every other run diverged (records kept as
 * invalid), 1 otherwise.
 *
 * @module
 */

import { checkpointPath, fileCheckpointStore } from "../history/checkpoint.ts";
import { type ExecuteOptions, executeRuns } from "./execute.ts";
import { formatRunEvent, type RunEvent } from "./events.ts";
import type { RunSpec } from "./plan.ts";
import type { Hypothesis } from "../hypothesis/types.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { hypothesisById } from "../../hypotheses/mod.ts";
import { stopSignal } from "../process/lifeline.ts";

/** Exit status of a job whose runs that did not complete all diverged. */
export const DIVERGED_EXIT = 3;

/** Options a pool passes to a job (second argument, JSON). */
export interface JobOptions
  extends Pick<ExecuteOptions, "threads" | "recordsDir" | "cacheDir"> {
  /** Steps between checkpoints (0: none). */
  readonly checkpointEvery: number;
  /**
   * Path or URL of a module whose default export is a list of hypotheses
   * the job may run besides `hypotheses/mod.ts`'s (tests).
   */
  readonly hypothesesModule?: string;
}

function emit(event: RunEvent): void {
  console.log(formatRunEvent(event));
}

/**
 * Writes the events the parent wants: not `started` (the parent announced
 * the runs when it started this process), progress at most every 500 ms
 * per run and at the last step.
 */
function reporter(): (event: RunEvent) => void {
  const last = new Map<string, number>();
  return (e) => {
    if (e.type === "started") return;
    if (e.type === "progress") {
      const now = performance.now();
      const id = `${e.spec.key} ${e.spec.seed}`;
      if (now - (last.get(id) ?? 0) < 500 && e.step !== e.steps) return;
      last.set(id, now);
    }
    emit(e);
  };
}

async function findHypothesis(
  module: string | undefined,
): Promise<(id: string) => Hypothesis> {
  if (!module) return hypothesisById;
  const extra: readonly Hypothesis[] = (await import(module)).default;
  return (id) => extra.find((h) => h.id === id) ?? hypothesisById(id);
}

async function main(): Promise<number> {
  const arg: RunSpec | RunSpec[] = JSON.parse(Deno.args[0]);
  const specs = Array.isArray(arg) ? arg : [arg];
  const opts: JobOptions = JSON.parse(Deno.args[1] ?? "{}");
  const { checkpointEvery, hypothesesModule, ...shared } = opts;
  try {
    const results = await executeRuns(specs, {
      ...shared,
      signal: stopSignal(),
      hypothesis: await findHypothesis(hypothesesModule),
      checkpoints: checkpointEvery > 0
        ? {
          store: (spec) =>
            fileCheckpointStore(checkpointPath(spec.key, opts.cacheDir)),
          every: checkpointEvery,
        }
        : undefined,
      onEvent: reporter(),
    });
    let code = 0;
    for (const r of results) {
      if (r.ok) continue;
      if (r.error instanceof DivergedError) {
        if (code === 0) code = DIVERGED_EXIT;
      } else code = 1;
    }
    return code;
  } catch (e) {
    // The pack could not start: every run fails with it.
    const message = e instanceof Error ? e.message : String(e);
    for (const spec of specs) emit({ type: "failed", spec, message });
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
