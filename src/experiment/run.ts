/**
 * Runs a hypothesis: trains its configuration (a prefix of it at the smoke
 * tier), streams the embedding history to disk, analyses black holes along
 * the way and returns a {@link RunRecord}. Records are cached by their run
 * key (see `run_key.ts`), so an unchanged run is never trained twice, and a
 * cached record is used only when it parses, its key matches and its history
 * file (when present) is whole.
 *
 * A run that diverges stops at that step: its record (status `diverged`,
 * verdict `invalid`) is kept so the run is not repeated, and a
 * {@link DivergedError} is thrown.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { findBlackHolesFloat32 } from "../analysis/black_holes.ts";
import { centroid, centroidNorm } from "../analysis/embedding_stats.ts";
import { writeTextAtomic } from "../io/atomic.ts";
import { loadCorpus } from "../io/corpus.ts";
import {
  createSafetensorsStreamWriter,
  float32ToBf16Bytes,
  type SafetensorsStreamWriter,
  writeSafetensors,
} from "../io/safetensors/mod.ts";
import {
  type BackendChoice,
  selectBackend,
  usableBackend,
} from "../runtime/backend.ts";
import { DivergedError } from "../runtime/divergence.ts";
import type { BackendName } from "../runtime/engine.ts";
import {
  type StepInfo,
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
import type { CheckpointStore } from "./execute.ts";
import {
  canonicalJson,
  sha256Json,
  stepConfigOf,
  type TrainConfig,
} from "../train/config.ts";
import { type CompiledStep, compileStep, storesBf16 } from "../train/step.ts";
import { applyOverrides, type Override, overrideText } from "./overrides.ts";
import {
  readRecord,
  RecordError,
  type RecordName,
  recordPath,
  recordStem,
} from "./records.ts";
import { type RunIdentity, runIdentity, sha256Hex } from "./run_key.ts";
import type {
  FinalRecord,
  HistoryFileRecord,
  Hypothesis,
  RunRecord,
  Tier,
  TrajectoryRecord,
} from "./types.ts";
import { RECORD_FORMAT } from "./types.ts";
import { verdictOf } from "./verdict.ts";

/** The corpus every hypothesis trains on unless told otherwise. */
export const DEFAULT_CORPUS = new URL(
  "../../fixtures/corpus/brown.txt",
  import.meta.url,
).pathname;

/** Where committed run records live (reports are rendered from them). */
export const RECORDS_DIR = new URL("../../reports/data", import.meta.url)
  .pathname;

/**
 * Where bulky, uncommitted artefacts (histories, traces, checkpoints) go:
 * `.cache/`, or `HORIZON_CACHE_DIR` when set.
 */
export const CACHE_DIR = Deno.env.get("HORIZON_CACHE_DIR") ||
  new URL("../../.cache", import.meta.url).pathname;

/**
 * Where records of variant runs (`--set`, `--corpus`) go unless told
 * otherwise: they are explorations, not the hypothesis's committed evidence.
 */
export const VARIANT_RECORDS_DIR = `${CACHE_DIR}/records`;

const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;

/** Options of {@link runHypothesis}. */
export interface RunOptions {
  /** Tier to run: `smoke` (a short prefix of the run) or `full`. */
  readonly tier: Tier;
  /** Replicate seed; default: the hypothesis config's seed. */
  readonly seed?: number;
  /** Override the tier's step count (must not exceed maxSteps). */
  readonly steps?: number;
  /** Backend to train on; default `auto` (see `selectBackend`). */
  readonly backend?: BackendName | "auto";
  /** Config overrides (`--set`), applied after the seed. */
  readonly overrides?: readonly Override[];
  /** Reuse a record with the same key when present (default true). */
  readonly useCache?: boolean;
  /** Write the record to `recordsDir` (default true). */
  readonly saveRecord?: boolean;
  /**
   * Default: `reports/data`, or `.cache/records` for a variant run (with
   * overrides or another corpus).
   */
  readonly recordsDir?: string;
  /** Where histories, traces and checkpoints go; default {@link CACHE_DIR}. */
  readonly cacheDir?: string;
  /** Record the embedding every k steps (default 1: every step). */
  readonly historyEvery?: number;
  /** Write the embedding history file (default true). */
  readonly writeHistory?: boolean;
  /** Also write a replay trace (initial params, offsets, noise, loss). */
  readonly trace?: boolean;
  /** Corpus file to train on; default {@link DEFAULT_CORPUS}. */
  readonly corpusPath?: string;
  /**
   * Intra-op threads of the cpu engine (default: all cores); never changes the
   * numbers.
   */
  readonly threads?: number;
  /** Called after every training step. */
  readonly onStep?: (info: StepInfo) => void | Promise<void>;
  /**
   * Save a checkpoint every `every` steps to `store` and resume from the one
   * found there; the resumed run ends bit-identical to an uninterrupted one.
   */
  readonly checkpoints?: {
    readonly store: CheckpointStore;
    readonly every: number;
  };
  /** Told why a cached record was not used, or what it lacks. */
  readonly onNote?: (note: string) => void;
  /**
   * Stops training after the current step; the run then throws {@link
   * RunStoppedError} and records nothing.
   */
  readonly signal?: AbortSignal;
}

/** A run's record and whether it came from the cache. */
export interface RunOutcome {
  /** The run's record (fresh or cached). */
  readonly record: RunRecord;
  /** Whether the record came from the cache instead of training. */
  readonly cached: boolean;
  /** Where the record is (null when not saved). */
  readonly path: string | null;
}

/**
 * Number of distinct vectors the dead tokens occupy: 1 while they form one
 * black hole; each dead token outside every cluster counts on its own.
 */
export function deadGroups(
  clusters: readonly { tokens: readonly number[] }[],
  dead: ReadonlySet<number>,
): number {
  let groups = 0, clustered = 0;
  for (const c of clusters) {
    const n = c.tokens.filter((t) => dead.has(t)).length;
    if (n > 0) groups++;
    clustered += n;
  }
  return groups + (dead.size - clustered);
}

/** Steps a tier runs for a hypothesis. */
export function tierSteps(h: Hypothesis, tier: Tier): number {
  return tier === "full"
    ? h.fullSteps?.steps ?? h.config.maxSteps
    : h.smoke.steps;
}

/** The config of one replicate. */
export function replicateConfig(h: Hypothesis, seed?: number): TrainConfig {
  return seed === undefined ? h.config : { ...h.config, seed };
}

/** Size and SHA-256 of a file, streamed. */
export async function fileDigest(
  path: string,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * Why a record's history file cannot back it (null: it can, or the record
 * has none).
 */
async function historyProblem(
  h: HistoryFileRecord,
  cacheDir: string,
): Promise<string | null> {
  const path = `${cacheDir}/${h.file}`;
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch {
    return "missing";
  }
  if (stat.size !== h.bytes) {
    return `${stat.size} bytes, the record says ${h.bytes} (truncated or replaced)`;
  }
  const { sha256 } = await fileDigest(path);
  return sha256 === h.sha256 ? null : "its SHA-256 differs from the record's";
}

/** Everything about a run that is decided before it trains. */
export interface PreparedRun {
  /** The hypothesis being run. */
  readonly hypothesis: Hypothesis;
  /** Tier being run. */
  readonly tier: Tier;
  /** The effective config: the replicate's seed and the overrides applied. */
  readonly config: TrainConfig;
  /** Number of training steps to run. */
  readonly steps: number;
  /** The overrides applied, as `path=value` texts. */
  readonly overrides: readonly string[];
  /** Path of the corpus file. */
  readonly corpusPath: string;
  /** The loaded corpus (filtered bytes, digest, dead tokens). */
  readonly corpus: Awaited<ReturnType<typeof loadCorpus>>;
  /** What the run key hashes. */
  readonly identity: RunIdentity;
  /** The run key: SHA-256 of {@link PreparedRun.identity}, hex. */
  readonly key: string;
  /** What the record file is named after. */
  readonly name: RecordName;
  /** Path the record is (or will be) written to. */
  readonly recordFile: string;
  /** The compiled training step (ONNX graph and its layout). */
  readonly compiled: CompiledStep;
  /** The backend chosen and why. */
  readonly choice: BackendChoice;
}

/**
 * Validates and identifies a run without training it: config (with
 * overrides), corpus, backend and run key. Throws a ConfigError / CorpusError
 * / BackendError for a run that cannot start.
 */
export async function prepareRun(
  h: Hypothesis,
  options: RunOptions,
): Promise<PreparedRun> {
  const overrides = options.overrides ?? [];
  const config = applyOverrides(replicateConfig(h, options.seed), overrides);
  const steps = options.steps ?? tierSteps(h, options.tier);
  const corpusPath = options.corpusPath ?? DEFAULT_CORPUS;
  const corpus = await loadCorpus(corpusPath, {
    vocabSize: config.model.vocabSize,
    context: config.seqLen,
  });
  const selected = await selectBackend(options.backend ?? "auto");
  const graph = compileStep(stepConfigOf(config));
  // `auto` on a GPU machine: make sure WebGPU can load this graph, else
  // fall back to cpu now, before the run key (which names the backend).
  const choice = await usableBackend(selected, graph.onnx);
  const { identity, key, compiled } = await runIdentity({
    config,
    steps,
    corpus: { sha256: corpus.sha256, length: corpus.bytes.length },
    backend: choice.engine.name,
    onnxruntime: choice.engine.runtime,
    compiled: graph,
  });
  const overrideTexts = overrides.map(overrideText);
  const variant = overrideTexts.length > 0 || corpusPath !== DEFAULT_CORPUS
    ? (await sha256Json({ overrides: overrideTexts, corpus: corpus.sha256 }))
      .slice(0, 8)
    : undefined;
  const name: RecordName = {
    hypothesisId: h.id,
    tier: options.tier,
    seed: config.seed,
    backend: choice.engine.name,
    steps: options.steps,
    variant,
  };
  const dir = options.recordsDir ??
    (variant ? VARIANT_RECORDS_DIR : RECORDS_DIR);
  return {
    hypothesis: h,
    tier: options.tier,
    config,
    steps,
    overrides: overrideTexts,
    corpusPath,
    corpus,
    identity,
    key,
    name,
    recordFile: recordPath(dir, name),
    compiled,
    choice,
  };
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
    let cached: RunRecord | null = null;
    try {
      cached = await readRecord(recordFile);
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      note(`${e.message}; treated as a cache miss`);
    }
    if (cached && cached.key !== key) {
      note(`${recordFile} is stale (its run key differs); re-running`);
      cached = null;
    }
    if (cached?.history) {
      const problem = await historyProblem(cached.history, cacheDir);
      if (problem === "missing") {
        note(
          `the embedding history ${cached.history.file} is not on this machine (--force regenerates it)`,
        );
      } else if (problem) {
        note(
          `the embedding history ${cached.history.file} is unusable (${problem}); re-running`,
        );
        cached = null;
      }
    }
    if (cached) {
      if (cached.status === "diverged" && cached.divergence) {
        throw new DivergedError(cached.divergence, {
          losses: Float32Array.from(cached.loss),
          gradNorms: Float32Array.from(cached.gradNorm),
        });
      }
      return { record: cached, cached: true, path: recordFile };
    }
  }

  const { vocabSize: V, dModel: d } = config.model;
  const every = options.historyEvery ?? 1;
  const recorded = Math.floor(steps / every) + 1;
  const dtype = storesBf16(config.precision) ? "BF16" : "F32";
  const toBytes = (wte: Float32Array) =>
    dtype === "BF16" ? float32ToBf16Bytes(wte) : new Uint8Array(
      wte.buffer.slice(wte.byteOffset, wte.byteOffset + wte.byteLength),
    );

  const stem = recordStem(prepared.name);
  const historyFile = `history/${h.id}-${stem}.safetensors`;
  // With checkpoints, the history is written to a stable partial file that
  // survives a kill, so a resumed run can continue it.
  const partialHistory = `${cacheDir}/history/.${h.id}-${stem}.partial`;
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
    await Deno.mkdir(`${cacheDir}/history`, { recursive: true });
    const open = async () =>
      createSafetensorsStreamWriter(
        `${cacheDir}/${historyFile}`,
        {
          ...(checkpoints
            ? {
              partial: {
                path: partialHistory,
                resumeDataBytes: resume?.historyBytes ?? undefined,
              },
            }
            : {}),
          tensors: [{
            name: "embedding_history",
            dtype,
            shape: [recorded, V, d],
          }],
          metadata: {
            format: "horizon-embedding-history",
            config_hash: await sha256Json(config),
            run_key: key,
            hypothesis: h.id,
            tier: options.tier,
            backend: prepared.name.backend,
            every: String(every),
            config: canonicalJson(config),
          },
        },
      );
    try {
      history = await open();
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
  const tracePrefix = `${cacheDir}/traces/${h.id}-${stem}`;
  if (options.trace) {
    await Deno.mkdir(`${cacheDir}/traces`, { recursive: true });
    if (config.noise) {
      trace = await createSafetensorsStreamWriter(
        `${tracePrefix}.noise.safetensors`,
        {
          tensors: [{ name: "noise", dtype, shape: [steps, V, d] }],
          metadata: { run_key: key, config: canonicalJson(config) },
        },
      );
    }
  }

  const dead = new Set(corpus.deadTokens);
  const traj = {
    step: [] as number[],
    C: [] as number[],
    P: [] as number[],
    centroidNorm: [] as number[],
  };
  let firstSplit: number | null = null, firstEscape: number | null = null;
  // The first and latest embedding snapshots (each a fresh copy).
  const seen: { first?: Float32Array; last?: Float32Array } = {};
  if (resume) {
    traj.step.push(...resume.trajectory.step);
    traj.C.push(...resume.trajectory.C);
    traj.P.push(...resume.trajectory.P);
    traj.centroidNorm.push(...resume.trajectory.centroidNorm);
    firstSplit = resume.firstSplit;
    firstEscape = resume.firstEscape;
    seen.first = resume.firstEmbedding;
  }
  const onCheckpoint = checkpoints
    ? async (t: TrainerCheckpoint) => {
      const historyBytes = history ? await history.sync() : null;
      await checkpoints.store.save(encodeCheckpoint({
        key,
        trainer: t,
        trajectory: traj,
        firstSplit,
        firstEscape,
        firstEmbedding: seen.first!,
        historyBytes,
      }));
    }
    : undefined;
  const observe = async (step: number, wte: Float32Array) => {
    const bh = findBlackHolesFloat32(wte, V, d);
    traj.step.push(step);
    traj.C.push(bh.C);
    traj.P.push(bh.P);
    traj.centroidNorm.push(centroidNorm(wte, V, d));
    if (step > 0 && firstSplit === null && deadGroups(bh.clusters, dead) > 1) {
      firstSplit = step;
    }
    if (step > 0 && firstEscape === null && bh.P < dead.size) {
      firstEscape = step;
    }
    seen.first ??= wte;
    seen.last = wte;
    if (history) await history.append("embedding_history", toBytes(wte));
  };

  const base = {
    format: RECORD_FORMAT,
    hypothesisId: h.id,
    tier: options.tier,
    seed: config.seed,
    steps,
    backend: prepared.name.backend,
    key,
    identity: prepared.identity,
    overrides: prepared.overrides,
    config,
    corpus: {
      path: prepared.corpusPath.startsWith(PROJECT_ROOT)
        ? prepared.corpusPath.slice(PROJECT_ROOT.length)
        : prepared.corpusPath,
      sha256: corpus.sha256,
      bytes: corpus.bytes.length,
      deadTokens: corpus.deadTokens,
    },
    threads: prepared.name.backend === "cpu"
      ? options.threads ?? navigator.hardwareConcurrency ?? 1
      : null,
    versions: {
      deno: Deno.version.deno,
      onnxruntime: prepared.identity.onnxruntime,
    },
  } as const;

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
      const record: RunRecord = {
        ...base,
        status: "diverged",
        engine: prepared.choice.engine.runtime,
        backendReason: prepared.choice.reason,
        wallMs: 0,
        loss: Array.from(e.losses),
        gradNorm: Array.from(e.gradNorms),
        trajectory: { ...traj, firstSplit, firstEscape },
        final: null,
        divergence: e.divergence,
        verdict: "invalid",
        history: null,
        finishedAt: new Date().toISOString(),
      };
      await writeTextAtomic(recordFile, JSON.stringify(record) + "\n", {
        createDirs: true,
      });
    }
    throw e;
  }
  if (options.trace) {
    const init = Object.fromEntries(
      [...result.initialParams].map(([name, data]) => [
        `init.${name}`,
        { dtype: "F32" as const, shape: [data.length], data },
      ]),
    );
    await writeSafetensors(
      `${tracePrefix}.safetensors`,
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
          run_key: key,
          config: canonicalJson(config),
          corpus_sha256: corpus.sha256,
          note:
            "batch b of step t uses corpus bytes [offsets[t,b], offsets[t,b]+seqLen]; noise (if any) in the .noise file",
        },
      },
    );
  }

  if (!seen.first || !seen.last) throw new Error("no embedding was recorded");
  const finalWte = seen.last;
  const bh = findBlackHolesFloat32(finalWte, V, d);
  const c0 = centroid(seen.first, V, d);
  const c1 = centroid(finalWte, V, d);
  const final: FinalRecord = {
    C: bh.C,
    P: bh.P,
    clusters: bh.clusters.map((c) => ({
      population: c.population,
      tokens: c.tokens,
    })),
    nonFinite: bh.nonFinite,
    centroidNorm: centroidNorm(finalWte, V, d),
    displacement: Math.hypot(...c1.map((v, i) => v - c0[i])),
    embeddingSha256: await sha256Hex(toBytes(finalWte)),
  };
  const trajectory: TrajectoryRecord = { ...traj, firstSplit, firstEscape };
  const record: RunRecord = {
    ...base,
    status: "complete",
    engine: result.engine,
    backendReason: result.reason,
    wallMs: Math.round(result.wallMs),
    loss: Array.from(result.losses),
    gradNorm: Array.from(result.gradNorms),
    trajectory,
    final,
    divergence: null,
    verdict: verdictOf(bh, dead.size),
    history: history
      ? { file: historyFile, ...await fileDigest(`${cacheDir}/${historyFile}`) }
      : null,
    finishedAt: new Date().toISOString(),
  };
  if (save) {
    await writeTextAtomic(recordFile, JSON.stringify(record) + "\n", {
      createDirs: true,
    });
  }
  return { record, cached: false, path: save ? recordFile : null };
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
