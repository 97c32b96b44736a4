/**
 * Runs a hypothesis: trains its configuration (a prefix of it at the smoke
 * tier), streams the embedding history to disk, analyses black holes along
 * the way and returns a {@link RunRecord}. Records are cached by their run
 * key (see `run_key.ts` and `run_cache.ts`), so an unchanged run is never
 * trained twice.
 *
 * A run that diverges stops at that step: its record (status `diverged`,
 * verdict `invalid`) is kept so the run is not repeated, and a
 * {@link DivergedError} is thrown. A run given checkpoints resumes from the
 * last one and ends bit-identical to an uninterrupted run.
 *
 * @module
 */

import { dirname } from "node:path";
import { fileDigest } from "../io/file_digest.ts";
import type { SafetensorsStreamWriter } from "../io/safetensors/mod.ts";
import { DivergedError } from "../runtime/divergence.ts";
import {
  train,
  type TrainerCheckpoint,
  type TrainResult,
} from "../runtime/trainer.ts";
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type RunCheckpoint,
} from "./checkpoint.ts";
import { CACHE_DIR } from "./locations.ts";
import { prepareRun } from "./prepare.ts";
import {
  completeRecord,
  divergedRecord,
  recordHeader,
  writeRecord,
} from "./record_write.ts";
import { RunAnalysis } from "./run_analysis.ts";
import { cachedRecord } from "./run_cache.ts";
import {
  embeddingEncoding,
  openHistory,
  openNoiseTrace,
  runFiles,
  writeTrace,
} from "./run_files.ts";
import type { RunOptions } from "./run_options.ts";
import type { Hypothesis, RunRecord } from "./types.ts";

/** A run's record and whether it came from the cache. */
export interface RunOutcome {
  /** The run's record (fresh or cached). */
  readonly record: RunRecord;
  /** Whether the record came from the cache instead of training. */
  readonly cached: boolean;
  /** Where the record is (null when not saved). */
  readonly path: string | null;
}

/** A run stopped before its last step (signal, parent gone): nothing recorded. */
export class RunStoppedError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "RunStoppedError";
  /** Number of steps completed before the stop. */
  readonly stepsRun: number;
  /**
   * Builds the error for a run stopped after `stepsRun` of `steps` steps, for
   * `reason`.
   */
  constructor(stepsRun: number, steps: number, reason: string) {
    super(
      `stopped after step ${stepsRun} of ${steps} (${reason}); nothing was recorded`,
    );
    this.stepsRun = stepsRun;
  }
}

/**
 * Runs (or fetches from cache) one replicate of a hypothesis at a tier;
 * see {@link runHypothesisDetailed} for whether it was cached.
 */
export async function runHypothesis(
  h: Hypothesis,
  options: RunOptions,
): Promise<RunRecord> {
  return (await runHypothesisDetailed(h, options)).record;
}

/** Runs (or fetches from cache) one replicate of a hypothesis at a tier. */
export async function runHypothesisDetailed(
  h: Hypothesis,
  options: RunOptions,
): Promise<RunOutcome> {
  const prepared = await prepareRun(h, options);
  const { config, steps, corpus, key, recordFile } = prepared;
  const cacheDir = options.cacheDir ?? CACHE_DIR;
  const note = options.onNote ?? (() => {});
  const save = options.saveRecord ?? true;

  if (options.useCache ?? true) {
    const cached = await cachedRecord(recordFile, key, { cacheDir, note });
    if (cached) return { record: cached, cached: true, path: recordFile };
  }

  const every = options.historyEvery ?? 1;
  const { dtype, toBytes } = embeddingEncoding(config.precision);
  const files = runFiles(cacheDir, h.id, prepared.name);
  const checkpoints = options.checkpoints;
  if (checkpoints && options.trace) {
    throw new RangeError("a traced run cannot use checkpoints");
  }
  if (checkpoints && every !== 1 && checkpoints.every % every !== 0) {
    throw new RangeError(
      "checkpoint interval must be a multiple of historyEvery",
    );
  }
  let resume: RunCheckpoint | null = null;
  const saved = checkpoints ? await checkpoints.store.load() : null;
  if (saved) {
    try {
      resume = decodeCheckpoint(saved, key);
      note(`resuming from the checkpoint at step ${resume.trainer.step}`);
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      note(`${e.message}; starting from step 0`);
    }
  }
  let history: SafetensorsStreamWriter | null = null;
  const wantHistory = (options.writeHistory ?? true) &&
    (!resume || resume.historyBytes !== null);
  if ((options.writeHistory ?? true) && !wantHistory) {
    note("the interrupted run wrote no history; this run records none");
  }
  if (wantHistory) {
    await Deno.mkdir(dirname(files.historyPath), { recursive: true });
    try {
      history = await openHistory(files.historyPath, prepared, {
        dtype,
        every,
        // With checkpoints, the history goes to a stable partial file that
        // survives a kill, so a resumed run can continue it.
        partial: checkpoints
          ? {
            path: files.partialHistory,
            resumeDataBytes: resume?.historyBytes ?? undefined,
          }
          : undefined,
      });
    } catch (e) {
      if (!resume) throw e;
      note(
        `the partial history could not be resumed (${
          (e as Error).message
        }); this run records none`,
      );
    }
  }
  let trace: SafetensorsStreamWriter | null = null;
  if (options.trace) {
    await Deno.mkdir(dirname(files.tracePrefix), { recursive: true });
    if (config.noise) {
      trace = await openNoiseTrace(files.tracePrefix, prepared, dtype);
    }
  }

  const { vocabSize: V, dModel: d } = config.model;
  const analysis = new RunAnalysis(
    V,
    d,
    corpus.deadTokens,
    resume ?? undefined,
  );
  const onCheckpoint = checkpoints
    ? async (t: TrainerCheckpoint) => {
      const historyBytes = history ? await history.sync() : null;
      await checkpoints.store.save(
        encodeCheckpoint({
          key,
          trainer: t,
          ...analysis.state(),
          historyBytes,
        }),
      );
    }
    : undefined;
  const observe = async (step: number, wte: Float32Array) => {
    analysis.observe(step, wte);
    if (history) await history.append("embedding_history", toBytes(wte));
  };
  const header = recordHeader(prepared, options.threads);

  let result: TrainResult;
  try {
    result = await train(config, corpus.bytes, {
      choice: prepared.choice,
      compiled: prepared.compiled,
      steps,
      embeddingEvery: every,
      onEmbedding: observe,
      onStep: options.onStep,
      threads: options.threads,
      signal: options.signal,
      resume: resume?.trainer,
      checkpointEvery: checkpoints?.every,
      onCheckpoint,
      recordOffsets: options.trace,
      onNoise: trace
        ? (_t, noise) => trace!.append("noise", toBytes(noise))
        : undefined,
    });
    if (result.stepsRun < steps) {
      throw new RunStoppedError(
        result.stepsRun,
        steps,
        String(options.signal?.reason ?? "stopped"),
      );
    }
    await history?.close();
    await trace?.close();
    await checkpoints?.store.clear();
  } catch (e) {
    // A stopped run keeps its checkpoint and partial history to resume from.
    const resumable = checkpoints && !(e instanceof DivergedError);
    if (!resumable) await history?.abort();
    await trace?.abort();
    if (e instanceof DivergedError) await checkpoints?.store.clear();
    if (e instanceof DivergedError && save) {
      await writeRecord(
        recordFile,
        divergedRecord(header, prepared.choice, e, analysis.trajectory()),
      );
    }
    throw e;
  }
  if (options.trace) await writeTrace(files.tracePrefix, prepared, result);

  const outcome = await analysis.result(toBytes);
  const record = completeRecord(
    header,
    result,
    analysis.trajectory(),
    outcome,
    history
      ? { file: files.history, ...await fileDigest(files.historyPath) }
      : null,
  );
  if (save) await writeRecord(recordFile, record);
  return { record, cached: false, path: save ? recordFile : null };
}
