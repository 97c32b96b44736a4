/**
 * What the queue reports besides its runs' `RunEvent`s (`../events.ts`):
 * the life of jobs and connections, never how a run ended. A submitter
 * reports `queued`, `found`, `requeued` and `error`; a worker `ready`,
 * `stalled` and `error`.
 *
 * @module
 */

import type { RunSpec } from "../plan.ts";

/** A job's or a connection's news (a run's own news is a `RunEvent`). */
export type QueueEvent =
  /** The submitter added the run's job to the queue. */
  | { readonly type: "queued"; readonly spec: RunSpec }
  /** The run's job was in the queue already (waiting, active, delayed ...). */
  | { readonly type: "found"; readonly spec: RunSpec; readonly state: string }
  /**
   * The queue held an earlier failure (not a divergence) or an unusable
   * record of the run, or its job was removed: it was queued again.
   */
  | { readonly type: "requeued"; readonly spec: RunSpec; readonly why: string }
  /** The worker is connected and waiting for jobs. */
  | { readonly type: "ready" }
  /** The worker found the job of a dead worker and returned it to the queue. */
  | { readonly type: "stalled"; readonly jobId: string }
  /**
   * A problem that is not a run's: Redis (the client keeps reconnecting), a
   * lock or progress update refused, a job that is not a run.
   */
  | { readonly type: "error"; readonly message: string };
