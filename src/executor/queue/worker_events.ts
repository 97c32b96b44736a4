/**
 * What a queue worker reports to whoever runs it (`deno task worker`
 * prints one line each).
 *
 * @module
 */

import type { RunSpec } from "../plan.ts";
import type { RunRecord } from "../../hypothesis/types.ts";
import type { RunEvent } from "../events.ts";

/** What a worker reports. */
export type WorkerEvent =
  /** Connected; waiting for jobs. */
  | { readonly type: "ready" }
  /**
   * A run started; `stalls`: how often its job was found abandoned before;
   * `pack`: runs trained together with it, itself included (1: alone).
   */
  | {
    readonly type: "start";
    readonly spec: RunSpec;
    readonly stalls: number;
    readonly pack: number;
  }
  /** A run continued from a checkpoint: its first step here was `step + 1`. */
  | { readonly type: "resumed"; readonly spec: RunSpec; readonly step: number }
  | {
    readonly type: "done";
    readonly spec: RunSpec;
    readonly record: RunRecord;
    readonly wallMs: number;
  }
  /** A run failed (a divergence's error starts with `diverged`). */
  | {
    readonly type: "failed";
    readonly spec: RunSpec | null;
    readonly jobId: string;
    readonly error: string;
    readonly wallMs: number;
  }
  /** The worker stopped mid-run: the job went back to the queue. */
  | {
    readonly type: "released";
    readonly spec: RunSpec;
    readonly step: number;
    readonly wallMs: number;
  }
  /** This worker found the job of a dead worker and returned it to the queue. */
  | { readonly type: "stalled"; readonly jobId: string }
  /** A run's note (a cache miss, a resume, what it lacks). */
  | Extract<RunEvent, { readonly type: "note" }>
  /** A Redis problem (the client keeps reconnecting). */
  | { readonly type: "error"; readonly message: string };
