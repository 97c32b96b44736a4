/**
 * Assembling a run's record and writing it. The fields known before training
 * (identity, config, corpus, provenance) form a {@link RecordHeader}; a run
 * that completes adds its losses, trajectory, final numbers and verdict, a
 * run that diverges its divergence and the verdict `invalid`. Field order is
 * part of the committed bytes: keep it.
 *
 * @module
 */

import type { BackendChoice } from "../runtime/backend.ts";
import type { DivergedError } from "../runtime/divergence.ts";
import type { TrainResult } from "../runtime/trainer.ts";
import { projectRelative } from "../history/locations.ts";
import { writeRecordFiles } from "../history/record_file.ts";
import { recordInconsistency } from "../history/record_checks.ts";
import type { PreparedRun } from "./prepare.ts";
import type { AnalysisResult } from "./run_analysis.ts";
import type {
  HistoryFileRecord,
  RunRecord,
  TrajectoryRecord,
} from "../hypothesis/types.ts";
import { RECORD_FORMAT } from "../hypothesis/types.ts";

/** The fields of a record known before the run trains. */
export type RecordHeader = Pick<
  RunRecord,
  | "format"
  | "hypothesisId"
  | "tier"
  | "seed"
  | "steps"
  | "backend"
  | "key"
  | "identity"
  | "overrides"
  | "config"
  | "corpus"
  | "threads"
  | "versions"
>;

/**
 * The header of `run`'s record; `threads` is what the cpu engine was given
 * (default: all cores), recorded only for the cpu backend.
 */
export function recordHeader(run: PreparedRun, threads?: number): RecordHeader {
  const { config, corpus } = run;
  return {
    format: RECORD_FORMAT,
    hypothesisId: run.hypothesis.id,
    tier: run.tier,
    seed: config.seed,
    steps: run.steps,
    backend: run.name.backend,
    key: run.key,
    identity: run.identity,
    overrides: run.overrides,
    config,
    corpus: {
      path: projectRelative(run.corpusPath),
      sha256: corpus.sha256,
      bytes: corpus.bytes.length,
      deadTokens: corpus.deadTokens,
    },
    threads: run.name.backend === "cpu"
      ? threads ?? navigator.hardwareConcurrency ?? 1
      : null,
    versions: {
      deno: Deno.version.deno,
      onnxruntime: run.identity.onnxruntime,
    },
  };
}

/** The record of a run that completed. */
export function completeRecord(
  header: RecordHeader,
  result: TrainResult,
  trajectory: TrajectoryRecord,
  analysis: AnalysisResult,
  history: HistoryFileRecord | null,
): RunRecord {
  return {
    ...header,
    status: "complete",
    engine: result.engine,
    backendReason: result.reason,
    wallMs: Math.round(result.wallMs),
    loss: Array.from(result.losses),
    gradNorm: Array.from(result.gradNorms),
    trajectory,
    final: analysis.final,
    divergence: null,
    verdict: analysis.verdict,
    history,
    finishedAt: new Date().toISOString(),
  };
}

/**
 * The record of a run that diverged: its losses up to the divergence and no
 * verdict (`invalid`), kept so the run is not repeated.
 */
export function divergedRecord(
  header: RecordHeader,
  choice: BackendChoice,
  e: DivergedError,
  trajectory: TrajectoryRecord,
): RunRecord {
  return {
    ...header,
    status: "diverged",
    engine: choice.engine.runtime,
    backendReason: choice.reason,
    wallMs: 0,
    loss: Array.from(e.losses),
    gradNorm: Array.from(e.gradNorms),
    trajectory,
    final: null,
    divergence: e.divergence,
    verdict: "invalid",
    history: null,
    finishedAt: new Date().toISOString(),
  };
}

/** A record the writer refused: it contradicts itself; nothing was written. */
export class InconsistentRecordError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "InconsistentRecordError";
  /** Path the record was to be written to. */
  readonly path: string;
  /** How it contradicts itself (`recordInconsistency`). */
  readonly problem: string;
  /**
   * Builds the error for the record meant for `path`; a run's `checkpoint`
   * (kept, to be inspected: resuming from it writes the same record) is named.
   */
  constructor(path: string, problem: string, checkpoint?: string) {
    super(
      `refusing to write the record ${path}: ${problem}; nothing was written` +
        (checkpoint === undefined
          ? ""
          : `; the checkpoint ${checkpoint} is kept for inspection (resuming from it writes the same record: remove it to train from step 0)`),
    );
    this.path = path;
    this.problem = problem;
  }
}

/**
 * Writes `record` to `path` (its JSON) and its arrays file beside it
 * (`history/record_file.ts`), each atomically, creating the directory. A
 * record that contradicts itself (`recordInconsistency`, the check every
 * reader makes) is refused, nothing written: an
 * {@link InconsistentRecordError}, naming the run's `checkpoint`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeRecord } from "./record_write.ts";
 * import { makeRun } from "../testing/records.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeRecord(`${dir}/h/smoke-seed42-cpu.json`, makeRun());
 *   const files = [...Deno.readDirSync(`${dir}/h`)].map((e) => e.name).sort();
 *   assert.deepEqual(files, ["smoke-seed42-cpu.json", "smoke-seed42-cpu.safetensors.gz"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeRecord(
  path: string,
  record: RunRecord,
  options: { readonly checkpoint?: string } = {},
): Promise<void> {
  const problem = recordInconsistency(record);
  if (problem !== null) {
    throw new InconsistentRecordError(path, problem, options.checkpoint);
  }
  await writeRecordFiles(path, record);
}
