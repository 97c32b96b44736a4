/**
 * The submitting side of a queued sweep: hands the runs to BullMQ workers
 * (`src/queue/`), one job per run with a pack's runs side by side, prints
 * progress, and writes each returned record where a local run would have
 * written it, after checking it is whole and is the run that was asked for.
 *
 * @module
 */

import { type PlannedRun, runIdOf, type RunSpec } from "./plan.ts";
import { parseRecord } from "../history/records.ts";
import { writeTextAtomic } from "../io/atomic.ts";
import { isDivergence, specLabel } from "./queue/jobs.ts";
import { submitRuns } from "./queue/submit.ts";

/** Counts of what a queued sweep did. */
export interface QueueSweepOutcome {
  readonly recorded: number;
  readonly diverged: number;
  readonly failed: number;
}

/**
 * Submits `packs` (from `packRuns` over `runs`, the planned runs they hold)
 * to the queue at `url`, one job per run with a pack's runs side by side (a
 * worker takes a pack's runs together), waits, and writes their records.
 */
export async function submitAndRecord(
  url: string,
  packs: readonly (readonly RunSpec[])[],
  runs: readonly PlannedRun[],
  options: { signal?: AbortSignal } = {},
): Promise<QueueSweepOutcome> {
  // A packed spec's key may name its pack: find its run by what it is.
  const byRun = new Map(runs.map((r) => [runIdOf(r.spec), r]));
  let lastProgress = 0;
  const results = await submitRuns(url, packs.flat(), {
    signal: options.signal,
    onProgress: (e) => {
      if (e.type === "progress") {
        const now = performance.now();
        if (now - lastProgress < 10_000) return;
        lastProgress = now;
        console.error(`  ${specLabel(e.spec)}: ${e.step}/${e.steps}`);
      } else if (e.type === "started") {
        console.error(`  started ${specLabel(e.spec)}`);
      } else if (e.type === "error") console.error(`  ${e.message}`);
    },
  });
  let recorded = 0, diverged = 0, failed = 0;
  for (const r of results) {
    const planned = byRun.get(runIdOf(r.spec))!;
    if (r.error !== undefined) {
      if (isDivergence(r.error)) diverged++;
      else failed++;
      console.error(`  ${specLabel(r.spec)}: ${r.error}`);
      continue;
    }
    const path = planned.prepared.recordFile;
    const text = JSON.stringify(r.record) + "\n";
    const record = parseRecord(text, `${path} (from the queue)`);
    if (record.key !== r.spec.key) {
      failed++;
      console.error(`  ${specLabel(r.spec)}: the worker returned another run`);
      continue;
    }
    await writeTextAtomic(path, text, { createDirs: true });
    recorded++;
    console.error(
      `  ${specLabel(r.spec)}: ${record.verdict}${
        record.final ? ` C=${record.final.C} P=${record.final.P}` : ""
      }${r.reused ? " (done earlier)" : ""}`,
    );
  }
  return { recorded, diverged, failed };
}
