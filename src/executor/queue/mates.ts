/**
 * Gathering a pack: a worker that took a packed run (`replicas: R`) takes
 * up to R - 1 further jobs queued right behind it with the same backend,
 * tier and R, and trains them with it as replicates of one graph.
 *
 * @module
 */

import type { Job } from "bullmq";
import type { RunSpec } from "../plan.ts";
import { asRunSpec, type JobReturn } from "./jobs.ts";

/** A job of a pack being trained, and the token its lock is held with. */
export interface Member {
  /** The BullMQ job. */
  readonly job: Job<unknown, JobReturn>;
  /** The token its lock is held with. */
  readonly token: string;
  /** Its run. */
  readonly spec: RunSpec;
  /**
   * Taken by the worker's job processor, which settles it by what it
   * returns (false: taken as a pack mate, settled by hand).
   */
  readonly lead: boolean;
}

/** Where mates come from: a BullMQ worker's `getNextJob`. */
export interface JobSource {
  /** The next waiting job, locked with `token`, or undefined if none. */
  getNextJob(
    token: string,
    options: { block: boolean },
  ): Promise<Job<unknown, JobReturn> | undefined>;
}

/** Options of {@link gatherMates}. */
export interface GatherOptions {
  /** The most runs of one pack. */
  readonly maxPack: number;
  /** How long to wait for mates not queued yet (ms). */
  readonly gatherMs: number;
  /** Whether the worker is stopping (take nothing more). */
  readonly stopping: () => boolean;
  /** A fresh lock token for a job taken. */
  readonly token: () => string;
}

/**
 * Takes the pack mates queued right behind `lead`: jobs with its backend,
 * tier and R, up to R runs in all. The first job that is not one goes back
 * to the head of the queue, and the search ends there; so does an empty
 * queue once `gatherMs` have passed.
 */
export async function gatherMates(
  source: JobSource,
  lead: RunSpec,
  options: GatherOptions,
): Promise<Member[]> {
  const R = Math.min(lead.replicas ?? 1, options.maxPack);
  const mates: Member[] = [];
  const until = performance.now() + options.gatherMs;
  while (mates.length + 1 < R && !options.stopping()) {
    const token = options.token();
    const job = await source.getNextJob(token, { block: false });
    if (!job) {
      // A submitter queues a pack's runs one after another: a worker
      // waiting for work may take the first before the rest are there.
      if (performance.now() >= until) break;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const spec = mateSpec(job.data, lead);
    if (spec === null) {
      await job.moveToWait(token);
      break;
    }
    mates.push({ job, token, spec, lead: false });
  }
  return mates;
}

/** `data` as a mate of `lead`, or null (not a run, or not its mate). */
function mateSpec(data: unknown, lead: RunSpec): RunSpec | null {
  let spec: RunSpec;
  try {
    spec = asRunSpec(data);
  } catch {
    return null; // not a run: its own job processor will say so
  }
  const same = spec.backend === lead.backend && spec.tier === lead.tier &&
    (spec.replicas ?? 1) === (lead.replicas ?? 1);
  return same ? spec : null;
}
