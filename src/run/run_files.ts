/**
 * A run's bulky artefacts under the cache directory, never committed: the
 * embedding history (every k-th embedding, streamed to safetensors, resumable
 * after a kill) and the replay trace (initial parameters, window offsets,
 * loss, and the noise of each step). A record names its history by size and
 * SHA-256; the metadata written here ties each file to its run key.
 *
 * @module
 */

import {
  createSafetensorsStreamWriter,
  float32ToBf16Bytes,
  type SafetensorsStreamWriter,
  writeSafetensors,
} from "../io/safetensors/mod.ts";
import type { TrainResult } from "../runtime/trainer.ts";
import { canonicalJson, sha256Json } from "../step/config.ts";
import { type Precision, storesBf16 } from "../step/step.ts";
import type { PreparedRun } from "./prepare.ts";
import { type RecordName, recordStem } from "../history/records.ts";

/** How a run stores its embeddings: the dtype and the encoder. */
export interface EmbeddingEncoding {
  /** Safetensors dtype of the stored values. */
  readonly dtype: "BF16" | "F32";
  /** The bytes of one embedding in that dtype. */
  readonly toBytes: (wte: Float32Array) => Uint8Array;
}

/**
 * The storage of a precision's embeddings: bf16 when its parameters are bf16
 * values (so the conversion is exact), else float32.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddingEncoding } from "./run_files.ts";
 * const bf16 = embeddingEncoding("bf16");
 * assert.equal(bf16.dtype, "BF16");
 * assert.deepEqual(bf16.toBytes(new Float32Array([1])), new Uint8Array([0x80, 0x3f]));
 * assert.equal(embeddingEncoding("fp32").toBytes(new Float32Array([1])).length, 4);
 * ```
 */
export function embeddingEncoding(precision: Precision): EmbeddingEncoding {
  return storesBf16(precision)
    ? { dtype: "BF16", toBytes: float32ToBf16Bytes }
    : {
      dtype: "F32",
      toBytes: (wte) =>
        new Uint8Array(
          wte.buffer.slice(wte.byteOffset, wte.byteOffset + wte.byteLength),
        ),
    };
}

/** Where one run's artefacts go. */
export interface RunFiles {
  /** The history file, relative to the cache directory (as records name it). */
  readonly history: string;
  /** The history file's path. */
  readonly historyPath: string;
  /**
   * Where a checkpointed run writes its history until it completes: a stable
   * name that survives a kill, so a resumed run can continue it.
   */
  readonly partialHistory: string;
  /** Path of the trace files without `.safetensors` / `.noise.safetensors`. */
  readonly tracePrefix: string;
}

/**
 * The artefact paths of the run `name` of hypothesis `hypothesisId`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFiles } from "./run_files.ts";
 * const files = runFiles("/cache", "h", {
 *   hypothesisId: "h",
 *   tier: "smoke",
 *   seed: 42,
 *   backend: "cpu",
 * });
 * assert.equal(files.history, "history/h-smoke-seed42-cpu.safetensors");
 * assert.equal(files.historyPath, "/cache/history/h-smoke-seed42-cpu.safetensors");
 * assert.equal(files.tracePrefix, "/cache/traces/h-smoke-seed42-cpu");
 * ```
 */
export function runFiles(
  cacheDir: string,
  hypothesisId: string,
  name: RecordName,
): RunFiles {
  const stem = `${hypothesisId}-${recordStem(name)}`;
  const history = `history/${stem}.safetensors`;
  return {
    history,
    historyPath: `${cacheDir}/${history}`,
    partialHistory: `${cacheDir}/history/.${stem}.partial`,
    tracePrefix: `${cacheDir}/traces/${stem}`,
  };
}

/** Options of {@link openHistory}. */
export interface HistoryOptions {
  /** How embeddings are stored. */
  readonly dtype: EmbeddingEncoding["dtype"];
  /** Every how many steps an embedding is recorded. */
  readonly every: number;
  /**
   * Write through this stable partial file, continuing it from
   * `resumeDataBytes` when given (a resumed run).
   */
  readonly partial?: { path: string; resumeDataBytes?: number };
}

/**
 * Starts the embedding history of `run` at `path`: one
 * `embedding_history` tensor of `[steps / every + 1, V, d]` (step 0 first),
 * with the run key and config in its metadata. Its directory must exist.
 */
export async function openHistory(
  path: string,
  run: PreparedRun,
  options: HistoryOptions,
): Promise<SafetensorsStreamWriter> {
  const { config } = run;
  const { vocabSize: V, dModel: d } = config.model;
  const recorded = Math.floor(run.steps / options.every) + 1;
  return await createSafetensorsStreamWriter(path, {
    ...(options.partial ? { partial: options.partial } : {}),
    tensors: [{
      name: "embedding_history",
      dtype: options.dtype,
      shape: [recorded, V, d],
    }],
    metadata: {
      format: "horizon-embedding-history",
      config_hash: await sha256Json(config),
      run_key: run.key,
      hypothesis: run.hypothesis.id,
      tier: run.tier,
      backend: run.name.backend,
      every: String(options.every),
      config: canonicalJson(config),
    },
  });
}

/**
 * Starts the trace's noise file, `<prefix>.noise.safetensors`: the noise
 * added at each step, `[steps, V, d]`. Its directory must exist.
 */
export async function openNoiseTrace(
  prefix: string,
  run: PreparedRun,
  dtype: EmbeddingEncoding["dtype"],
): Promise<SafetensorsStreamWriter> {
  const { config } = run;
  const { vocabSize: V, dModel: d } = config.model;
  return await createSafetensorsStreamWriter(`${prefix}.noise.safetensors`, {
    tensors: [{ name: "noise", dtype, shape: [run.steps, V, d] }],
    metadata: { run_key: run.key, config: canonicalJson(config) },
  });
}

/**
 * Writes the trace, `<prefix>.safetensors`: the initial parameters, the
 * window offsets and the loss of each step of `result` (trained with
 * `recordOffsets`); enough to replay the run outside the trainer.
 */
export async function writeTrace(
  prefix: string,
  run: PreparedRun,
  result: TrainResult,
): Promise<void> {
  const { config, steps } = run;
  const init = Object.fromEntries(
    [...result.initialParams].map(([name, data]) => [
      `init.${name}`,
      { dtype: "F32" as const, shape: [data.length], data },
    ]),
  );
  await writeSafetensors(
    `${prefix}.safetensors`,
    {
      ...init,
      offsets: {
        dtype: "I32",
        shape: [steps, config.batchSize],
        data: result.offsets!,
      },
      loss: { dtype: "F32", shape: [steps], data: result.losses },
    },
    {
      metadata: {
        format: "horizon-trace",
        run_key: run.key,
        config: canonicalJson(config),
        corpus_sha256: run.corpus.sha256,
        note:
          "batch b of step t uses corpus bytes [offsets[t,b], offsets[t,b]+seqLen]; noise (if any) in the .noise file",
      },
    },
  );
}
