/**
 * What a run will write, folder by folder, estimated before it trains (for
 * `io/free_space.ts`): the embedding history (one embedding per recorded
 * step), the checkpoint (parameters, both AdamW moments, the first
 * embedding, losses; twice while an atomic replace is under way), the
 * record, and the trace when asked for. Estimates err high by small fixed
 * allowances for headers and metadata: a run refused for a few kilobytes
 * it would not have used costs less than one that fails at its end.
 *
 * @module
 */

import type { SpaceNeed } from "../io/free_space.ts";
import type { PreparedRun } from "./prepare.ts";
import { storesBf16 } from "../step/step.ts";

/** Headers, metadata (the config as JSON) and file-system slack. */
const ALLOWANCE = 64 * 1024;

/** Upper bound of one step's share of a record (loss, grad norm, trajectory). */
const RECORD_BYTES_PER_STEP = 100;

/** Where a run writes, and what it writes (null: not written). */
export interface RunWrites {
  /** Folder of the history file (null: no history). */
  readonly historyDir: string | null;
  /** History bytes already on disk (a resumed run's partial history). */
  readonly historyWritten: number;
  /** Every how many steps an embedding is recorded. */
  readonly every: number;
  /** Folder of the checkpoint file (null: none, or not on this disk). */
  readonly checkpointDir: string | null;
  /** Folder of the record (null: not saved). */
  readonly recordDir: string | null;
  /** Folder of the trace files (null: no trace). */
  readonly traceDir: string | null;
}

/**
 * The bytes `run` will write under each folder of `writes`.
 *
 * @example The seeds' model for 300 steps: about 10 MB of bf16 history
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSpaceNeeds } from "./space_needs.ts";
 * import { prepareRun } from "./prepare.ts";
 * import { tinyHypothesis } from "../testing/helpers.ts";
 * const run = await prepareRun(tinyHypothesis("h"), { tier: "smoke", backend: "cpu" });
 * const needs = runSpaceNeeds(run, {
 *   historyDir: "/cache/history", historyWritten: 0, every: 1,
 *   checkpointDir: null, recordDir: "/records/h", traceDir: null,
 * });
 * assert.deepEqual(needs.map((n) => n.dir), ["/cache/history", "/records/h"]);
 * ```
 */
export function runSpaceNeeds(
  run: PreparedRun,
  writes: RunWrites,
): SpaceNeed[] {
  const { config, steps } = run;
  const { vocabSize: V, dModel: d } = config.model;
  const valueBytes = storesBf16(config.precision) ? 2 : 4;
  const recorded = Math.floor(steps / writes.every) + 1;
  const params = run.compiled.totalSize;
  const needs: SpaceNeed[] = [];
  if (writes.historyDir !== null) {
    needs.push({
      dir: writes.historyDir,
      bytes: recorded * V * d * valueBytes + ALLOWANCE -
        writes.historyWritten,
    });
  }
  if (writes.checkpointDir !== null) {
    // params, m, v and the first embedding in float32; losses and grad
    // norms; the trajectory (step, C, P, centroid norm) per recorded step.
    const one = 3 * params * 4 + V * d * 4 + steps * 8 + recorded * 20 +
      ALLOWANCE;
    needs.push({ dir: writes.checkpointDir, bytes: 2 * one });
  }
  if (writes.recordDir !== null) {
    needs.push({
      dir: writes.recordDir,
      bytes: steps * RECORD_BYTES_PER_STEP + ALLOWANCE,
    });
  }
  if (writes.traceDir !== null) {
    const noise = config.noise ? steps * V * d * valueBytes : 0;
    needs.push({
      dir: writes.traceDir,
      bytes: params * 4 + steps * (config.batchSize + 1) * 4 + noise +
        2 * ALLOWANCE,
    });
  }
  return needs;
}
