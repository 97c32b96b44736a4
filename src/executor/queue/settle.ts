/**
 * Ending a worker's hold on a job: settling it (completed with its record,
 * or failed with a one-line reason) or releasing it to the head of the
 * queue, where another worker resumes it from its last checkpoint.
 *
 * @module
 */

import type { JobReturn } from "./jobs.ts";
import type { Member } from "./mates.ts";

/**
 * Completes a pack mate's job with its record, or fails it with `outcome`
 * (the lead's job is settled by what the job processor returns). Resolves
 * to the error message when Redis refused, else null.
 */
export async function settleJob(
  m: Member,
  outcome: JobReturn | string,
): Promise<string | null> {
  try {
    if (typeof outcome === "string") {
      await m.job.moveToFailed(new Error(outcome), m.token, false);
    } else await m.job.moveToCompleted(outcome, m.token, false);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Returns jobs to the head of the queue, the last first, so that a pack
 * lies there in its order; `onReleased` is told of each.
 */
export async function releaseJobs(
  members: readonly Member[],
  onReleased: (m: Member) => void,
): Promise<void> {
  for (const m of [...members].reverse()) {
    await m.job.moveToWait(m.token).catch(() => {});
    onReleased(m);
  }
}
