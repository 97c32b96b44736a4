/**
 * Runs a hypothesis: trains its configuration (a prefix of it at the smoke
 * tier), streams the embedding history to disk, analyses black holes along
 * the way and returns a {@link RunRecord}. Records are cached by a key over
 * (config, steps, corpus, engine code), so an unchanged run is never trained
 * twice.
 *
 * @module
 */

import {
  centroid,
  centroidNorm,
  findBlackHolesFloat32,
} from "../analysis/black_holes.ts";
import { writeTextAtomic } from "../io/atomic.ts";
import { loadCorpus } from "../io/corpus.ts";
import {
  createSafetensorsStreamWriter,
  float32ToBf16Bytes,
  type SafetensorsStreamWriter,
  writeSafetensors,
} from "../io/safetensors.ts";
import type { BackendName } from "../runtime/engine.ts";
import { type StepInfo, train } from "../runtime/trainer.ts";
import {
  canonicalJson,
  sha256Json,
  type TrainConfig,
} from "../train/config.ts";
import { engineCodeVersion } from "./engine_version.ts";
import type { Hypothesis, RunRecord, Tier, TrajectoryRecord } from "./types.ts";
import { verdictOf } from "./verdict.ts";

/** The corpus every hypothesis trains on unless told otherwise. */
export const DEFAULT_CORPUS = new URL(
  "../../fixtures/corpus/brown.txt",
  import.meta.url,
).pathname;

/** Where committed run records live (reports are rendered from them). */
export const RECORDS_DIR = new URL("../../reports/data", import.meta.url)
  .pathname;

/** Where bulky, uncommitted artefacts (histories, traces) go. */
export const CACHE_DIR = new URL("../../.cache", import.meta.url).pathname;

/** Options of {@link runHypothesis}. */
export interface RunOptions {
  readonly tier: Tier;
  /** Replicate seed; default: the hypothesis config's seed. */
  readonly seed?: number;
  /** Override the tier's step count (must not exceed maxSteps). */
  readonly steps?: number;
  readonly backend?: BackendName | "auto";
  /** Reuse a record with the same key when present (default true). */
  readonly useCache?: boolean;
  /** Write the record to `recordsDir` (default true). */
  readonly saveRecord?: boolean;
  readonly recordsDir?: string;
  readonly cacheDir?: string;
  /** Record the embedding every k steps (default 1: every step). */
  readonly historyEvery?: number;
  /** Write the embedding history file (default true). */
  readonly writeHistory?: boolean;
  /** Also write a replay trace (initial params, offsets, noise, loss). */
  readonly trace?: boolean;
  readonly corpusPath?: string;
  readonly threads?: number;
  readonly onStep?: (info: StepInfo) => void;
  readonly signal?: AbortSignal;
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
  return tier === "full" ? h.config.maxSteps : h.smoke.steps;
}

/** The config of one replicate. */
export function replicateConfig(h: Hypothesis, seed?: number): TrainConfig {
  return seed === undefined ? h.config : { ...h.config, seed };
}

/** Cache key of a run: config, steps, corpus bytes and engine code. */
export async function runKey(
  config: TrainConfig,
  steps: number,
  corpusSha256: string,
): Promise<string> {
  return await sha256Json({
    config,
    steps,
    corpus: corpusSha256,
    engine: await engineCodeVersion(),
  });
}

/**
 * File stem of a run: `<tier>-seed<seed>`, plus `-<steps>steps` when the step
 * count was overridden, so a shortened run never replaces the tier's record.
 */
export function runStem(tier: Tier, seed: number, steps?: number): string {
  return `${tier}-seed${seed}${steps === undefined ? "" : `-${steps}steps`}`;
}

/** Path of the record of (hypothesis, tier, seed[, overridden steps]). */
export function recordPath(
  dir: string,
  id: string,
  tier: Tier,
  seed: number,
  steps?: number,
): string {
  return `${dir}/${id}/${runStem(tier, seed, steps)}.json`;
}

/** Reads a record, or null when absent or unreadable. */
export async function readRecord(path: string): Promise<RunRecord | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as RunRecord;
  } catch {
    return null;
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs (or fetches from cache) one replicate of a hypothesis at a tier. */
export async function runHypothesis(
  h: Hypothesis,
  options: RunOptions,
): Promise<RunRecord> {
  const config = replicateConfig(h, options.seed);
  const steps = options.steps ?? tierSteps(h, options.tier);
  const corpusPath = options.corpusPath ?? DEFAULT_CORPUS;
  const corpus = await loadCorpus(corpusPath, {
    vocabSize: config.model.vocabSize,
    context: config.seqLen,
  });
  const key = await runKey(config, steps, corpus.sha256);
  const recordsDir = options.recordsDir ?? RECORDS_DIR;
  const cacheDir = options.cacheDir ?? CACHE_DIR;
  const stem = runStem(options.tier, config.seed, options.steps);
  const recordFile = recordPath(
    recordsDir,
    h.id,
    options.tier,
    config.seed,
    options.steps,
  );
  if (options.useCache ?? true) {
    const cached = await readRecord(recordFile);
    if (cached && cached.key === key && cached.steps === steps) return cached;
  }

  const { vocabSize: V, dModel: d } = config.model;
  const every = options.historyEvery ?? 1;
  const recorded = Math.floor(steps / every) + 1;
  const dtype = config.precision === "bf16" ? "BF16" : "F32";
  const toBytes = (wte: Float32Array) =>
    dtype === "BF16" ? float32ToBf16Bytes(wte) : new Uint8Array(
      wte.buffer.slice(wte.byteOffset, wte.byteOffset + wte.byteLength),
    );

  await Deno.mkdir(`${cacheDir}/history`, { recursive: true });
  const historyFile = `history/${h.id}-${stem}.safetensors`;
  let history: SafetensorsStreamWriter | null = null;
  if (options.writeHistory ?? true) {
    history = await createSafetensorsStreamWriter(
      `${cacheDir}/${historyFile}`,
      {
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
          every: String(every),
          config: canonicalJson(config),
        },
      },
    );
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

  let result;
  try {
    result = await train(config, corpus.bytes, {
      backend: options.backend ?? "auto",
      steps,
      embeddingEvery: every,
      onEmbedding: observe,
      onStep: options.onStep,
      threads: options.threads,
      signal: options.signal,
      recordOffsets: options.trace,
      onNoise: trace
        ? (_t, noise) => trace!.append("noise", toBytes(noise))
        : undefined,
    });
    if (result.stepsRun < steps) throw new Error("run interrupted");
    await history?.close();
    await trace?.close();
  } catch (e) {
    await history?.abort();
    await trace?.abort();
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
  const displacement = Math.hypot(...c1.map((v, i) => v - c0[i]));
  const trajectory: TrajectoryRecord = { ...traj, firstSplit, firstEscape };
  const record: RunRecord = {
    format: 1,
    hypothesisId: h.id,
    tier: options.tier,
    seed: config.seed,
    key,
    configHash: await sha256Json(config),
    config,
    steps,
    corpus: {
      path: corpusPath.replace(new URL("../../", import.meta.url).pathname, ""),
      sha256: corpus.sha256,
      bytes: corpus.bytes.length,
      deadTokens: corpus.deadTokens,
    },
    backend: result.backend,
    engine: result.engine,
    backendReason: result.reason,
    versions: {
      deno: Deno.version.deno,
      onnxruntime: "1.30.0",
      engineCode: await engineCodeVersion(),
    },
    wallMs: Math.round(result.wallMs),
    loss: Array.from(result.losses),
    gradNorm: Array.from(result.gradNorms),
    trajectory,
    final: {
      C: bh.C,
      P: bh.P,
      clusters: bh.clusters.map((c) => ({
        population: c.population,
        tokens: c.tokens,
      })),
      centroidNorm: centroidNorm(finalWte, V, d),
      displacement,
      embeddingSha256: await sha256Hex(toBytes(finalWte)),
    },
    verdict: verdictOf(bh, dead.size),
    historyFile: history ? historyFile : null,
    finishedAt: new Date().toISOString(),
  };
  if (options.saveRecord ?? true) {
    await writeTextAtomic(recordFile, JSON.stringify(record) + "\n", {
      createDirs: true,
    });
  }
  return record;
}
