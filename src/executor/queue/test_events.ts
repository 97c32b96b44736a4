/**
 * For the queue's tests: a submitter's or worker's events of both kinds,
 * collected in the order they came.
 *
 * @module
 */

import type { RunEvent } from "../events.ts";
import type { QueueEvent } from "./queue_events.ts";

/** Events collected by {@link collectEvents}, and its callbacks. */
export interface CollectedEvents {
  /** Every event so far, run and queue events interleaved. */
  readonly events: (RunEvent | QueueEvent)[];
  /** The callbacks to pass to `submitRuns` or `startWorker`. */
  readonly listen: {
    readonly onRunEvent: (e: RunEvent) => void;
    readonly onQueueEvent: (e: QueueEvent) => void;
  };
}

/** Starts collecting events. */
export function collectEvents(): CollectedEvents {
  const events: (RunEvent | QueueEvent)[] = [];
  return {
    events,
    listen: {
      onRunEvent: (e) => void events.push(e),
      onQueueEvent: (e) => void events.push(e),
    },
  };
}
