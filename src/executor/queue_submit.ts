/**
 * The submitting side of a queued sweep: hands the runs to BullMQ workers
 * (`src/queue/`), one job per run with a pack's runs side by side, prints
 * progress, and writes each returned record where a local run would have
 * written it (`queue/jobs.ts` jobEnd has checked that it is whole and is the
 * run that was asked for, or re-queued the run).
 * A run that diverged comes back with its `diverged` record (verdict
 * `invalid`), written like any other, as the local pool writes it.
 *
 * @module
 */

import { type PlannedRun, runIdOf, type RunSpec } from "./plan.ts";
import { writeRecordFiles } from "../history/record_file.ts";
import { specLabel } from "./queue/jobs.ts";
import { submitRuns } from "./queue/submit.ts";
import type { RedisTarget } from "./queue/connection.ts";

/** Counts of what a queued sweep did. */
export interface QueueSweepOutcome {
  readonly recorded: number;
  readonly diverged: number;
  readonly failed: number;
}

/**
 * Submits `packs` (from `packRuns` over `runs`, the planned runs they hold)
 * to the queue (a target from `queue/access.ts`, or a URL without secrets),
 * one job per run with a pack's runs side by side (a worker takes a pack's
 * runs together), waits, and writes their records, diverged ones included.
 */
export async function submitAndRecord(
  queue: string | RedisTarget,
  packs: readonly (readonly RunSpec[])[],
  runs: readonly PlannedRun[],
  options: { signal?: AbortSignal } = {},
): Promise<QueueSweepOutcome> {
  // A packed spec's key may name its pack: find its run by what it is.
  const byRun = new Map(runs.map((r) => [runIdOf(r.spec), r]));
  let lastProgress = 0;
  const ends = await submitRuns(queue, packs.flat(), {
    signal: options.signal,
    onRunEvent: (e) => {
      if (e.type === "progress") {
        const now = performance.now();
        if (now - lastProgress < 10_000) return;
        lastProgress = now;
        console.error(`  ${specLabel(e.spec)}: ${e.step}/${e.steps}`);
      } else if (e.type === "started") {
        console.error(`  started ${specLabel(e.spec)}`);
      }
    },
    onQueueEvent: (e) => {
      if (e.type === "error") console.error(`  ${e.message}`);
    },
  });
  let recorded = 0, diverged = 0, failed = 0;
  for (const e of ends) {
    const planned = byRun.get(runIdOf(e.spec))!;
    if (e.type !== "finished" && (e.type !== "diverged" || !e.record)) {
      // A divergence without its record: a worker older than this
      // submitter. Nothing is recorded, so it is not "recorded as invalid".
      failed++;
      console.error(
        `  ${specLabel(e.spec)}: ${e.message}${
          e.type === "diverged"
            ? " (its worker returned no record: update the workers)"
            : ""
        }`,
      );
      continue;
    }
    const record = e.record!; // a finished end always carries its record
    await writeRecordFiles(planned.prepared.recordFile, record);
    const d = record.divergence;
    if (record.status === "diverged") diverged++;
    else recorded++;
    console.error(
      `  ${specLabel(e.spec)}: ${
        d ? `diverged at step ${d.step} (recorded as invalid)` : record.verdict
      }${record.final ? ` C=${record.final.C} P=${record.final.P}` : ""}${
        e.type === "finished" && e.replicas === 0 ? " (done earlier)" : ""
      }`,
    );
  }
  return { recorded, diverged, failed };
}
