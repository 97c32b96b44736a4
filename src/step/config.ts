/**
 * The complete, declarative description of a training run: everything that
 * decides its numbers, and nothing about where it runs. Its hash keys caches
 * and names result files.
 *
 * @module
 */

import { type ModelConfig, SEED_MODEL } from "../model/config.ts";
import type { EmbeddingInit } from "../model/init.ts";
import { type AdamWConfig, HF_ADAMW } from "./adamw.ts";
import type { Objective } from "../data/sampler.ts";
import type { DecayPolicy, Precision, StepConfig } from "./step.ts";
import type { Rounding } from "./stochastic_rounding.ts";

/** Post-step noise (seed 11.2b): `param += bf16(randn) * scale`, rounded. */
export interface NoiseConfig {
  /** Parameter that receives the noise. */
  readonly param: string;
  /** Multiplier of the standard normal draws (the seed code uses eps/10). */
  readonly scale: number;
}

/** A training run. */
export interface TrainConfig {
  /** Model architecture (sizes, norm kind). */
  readonly model: ModelConfig;
  /** Number of windows (rows) per batch. */
  readonly batchSize: number;
  /** Tokens per row (the seeds: the full context, 128). */
  readonly seqLen: number;
  /** Length of the LR schedule (linear decay to 0 over these steps). */
  readonly maxSteps: number;
  /** Arithmetic of the parameters and activations: `bf16` or `fp32`. */
  readonly precision: Precision;
  /** AdamW hyper-parameters (peak learning rate of the linear schedule). */
  readonly adamw: AdamWConfig;
  /** Global gradient-norm clip (HF default 1.0); null: none. */
  readonly clipNorm: number | null;
  /** Which parameters receive weight decay. */
  readonly decay: DecayPolicy;
  /** How targets are formed from a window (see `Objective`). */
  readonly objective: Objective;
  /** How the token embedding starts. */
  readonly embeddingInit: EmbeddingInit;
  /** Post-step noise on one parameter; null: none. */
  readonly noise: NoiseConfig | null;
  /** Seeds init, batch order and noise (independent PCG32 streams). */
  readonly seed: number;
  /** bf16 autocast emulation of the matrix products (see autocast.ts). */
  readonly autocast?: boolean;
  /**
   * `stochastic`: parameters rounded to bf16 stochastically, from their own
   * seeded stream (see stochastic_rounding.ts); omitted: nearest-even.
   */
  readonly rounding?: Rounding;
}

/** The seed notebooks' run: 10,000 steps of B=32, T=128 in bf16, Qwen init. */
export const SEED_RUN: TrainConfig = Object.freeze({
  model: SEED_MODEL,
  batchSize: 32,
  seqLen: 128,
  maxSteps: 10_000,
  precision: "bf16",
  adamw: HF_ADAMW,
  clipNorm: 1.0,
  decay: "hf-trainer",
  objective: "double-shift",
  embeddingInit: "qwen",
  noise: null,
  seed: 42,
});

/** The part of a run that shapes the compiled step graph. */
export function stepConfigOf(c: TrainConfig): StepConfig {
  return {
    model: c.model,
    batchSize: c.batchSize,
    seqLen: c.seqLen,
    precision: c.precision,
    adamw: c.adamw,
    clipNorm: c.clipNorm,
    decay: c.decay,
    noiseParam: c.noise?.param ?? null,
    ...(c.autocast ? { autocast: true } : {}),
    ...(c.rounding ? { rounding: c.rounding } : {}),
  };
}

/**
 * JSON with object keys sorted, so equal configs serialise equally; throws a
 * RangeError on NaN or Infinity.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (k, v) => {
      // JSON writes NaN and Infinity as null: two different configs would
      // share one key.
      if (typeof v === "number" && !Number.isFinite(v)) {
        throw new RangeError(
          `${k || "value"} is ${v}: only finite numbers have a canonical form`,
        );
      }
      return v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.keys(v).sort().map((
            k,
          ) => [k, (v as Record<string, unknown>)[k]]),
        )
        : v;
    },
  );
}

/** SHA-256 (hex) of bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 (hex) of the canonical JSON of any value. */
export async function sha256Json(value: unknown): Promise<string> {
  return await sha256Hex(new TextEncoder().encode(canonicalJson(value)));
}
