/**
 * Model configuration and the parameter table of the HF-compatible GPT-2.
 *
 * @module
 */

import { type DropoutConfig, validateDropout } from "./dropout.ts";

/** Which normalisation every block (and the final norm) uses. */
export type NormKind = "layernorm" | "rmsnorm";

/** Architecture of the tiny GPT-2. */
export interface ModelConfig {
  /** Vocabulary size (128: one token per ASCII byte). */
  readonly vocabSize: number;
  /** Residual width. */
  readonly dModel: number;
  /** Number of transformer blocks. */
  readonly nLayer: number;
  /** Attention heads per block (dModel must be divisible by it). */
  readonly nHead: number;
  /** Maximum sequence length (rows of the position embedding). */
  readonly context: number;
  /** LayerNorm (GPT-2) or RMSNorm (weight only, as in seed 11.2a). */
  readonly norm: NormKind;
  /** Epsilon inside the norm (HF GPT-2: 1e-5; kept when RMSNorm replaces it). */
  readonly normEps: number;
  /** Output head shares the token embedding (HF `tie_word_embeddings`). */
  readonly tiedHead: boolean;
  /**
   * Dropout at HF GPT-2's places, masks fed per step (see dropout.ts);
   * omitted: none (the seeds set every probability to 0).
   */
  readonly dropout?: DropoutConfig;
}

/** The seeds' architecture: vocab 128, d 64, 2 layers, 2 heads, context 128. */
export const SEED_MODEL: ModelConfig = Object.freeze({
  vocabSize: 128,
  dModel: 64,
  nLayer: 2,
  nHead: 2,
  context: 128,
  norm: "layernorm",
  normEps: 1e-5,
  tiedHead: true,
});

/** What a parameter is, which decides its init and weight decay. */
export type ParamRole =
  | "token-embedding"
  | "position-embedding"
  | "weight"
  | "residual-weight"
  | "bias"
  | "norm-weight"
  | "norm-bias"
  | "head";

/** One trainable tensor. */
export interface ParamSpec {
  /** HF state-dict name, e.g. `transformer.h.0.attn.c_attn.weight`. */
  readonly name: string;
  /** Shape; linear weights are HF Conv1D layout [in, out]. */
  readonly shape: readonly number[];
  /** What kind of parameter it is (decides init and weight decay). */
  readonly role: ParamRole;
}

/** Throws a readable error when a config cannot describe a model. */
export function validateModelConfig(c: ModelConfig): void {
  const positive = [
    "vocabSize",
    "dModel",
    "nLayer",
    "nHead",
    "context",
  ] as const;
  for (const k of positive) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) {
      throw new RangeError(
        `model.${k} must be a positive integer, got ${c[k]}`,
      );
    }
  }
  if (c.dModel % c.nHead !== 0) {
    throw new RangeError(
      `model.dModel (${c.dModel}) must be divisible by model.nHead (${c.nHead})`,
    );
  }
  if (c.norm !== "layernorm" && c.norm !== "rmsnorm") {
    throw new RangeError(`model.norm must be "layernorm" or "rmsnorm"`);
  }
  if (!(c.normEps > 0)) throw new RangeError("model.normEps must be > 0");
  if (c.dropout !== undefined) validateDropout(c.dropout);
}

/** Every parameter in HF state-dict order. */
export function parameterSpecs(c: ModelConfig): ParamSpec[] {
  validateModelConfig(c);
  const d = c.dModel;
  const specs: ParamSpec[] = [
    {
      name: "transformer.wte.weight",
      shape: [c.vocabSize, d],
      role: "token-embedding",
    },
    {
      name: "transformer.wpe.weight",
      shape: [c.context, d],
      role: "position-embedding",
    },
  ];
  const norm = (prefix: string) => {
    specs.push({ name: `${prefix}.weight`, shape: [d], role: "norm-weight" });
    if (c.norm === "layernorm") {
      specs.push({ name: `${prefix}.bias`, shape: [d], role: "norm-bias" });
    }
  };
  const linear = (prefix: string, n: number, m: number, residual = false) => {
    specs.push({
      name: `${prefix}.weight`,
      shape: [n, m],
      role: residual ? "residual-weight" : "weight",
    });
    specs.push({ name: `${prefix}.bias`, shape: [m], role: "bias" });
  };
  for (let i = 0; i < c.nLayer; i++) {
    const h = `transformer.h.${i}`;
    norm(`${h}.ln_1`);
    linear(`${h}.attn.c_attn`, d, 3 * d);
    linear(`${h}.attn.c_proj`, d, d, true);
    norm(`${h}.ln_2`);
    linear(`${h}.mlp.c_fc`, d, 4 * d);
    linear(`${h}.mlp.c_proj`, 4 * d, d, true);
  }
  norm("transformer.ln_f");
  if (!c.tiedHead) {
    specs.push({
      name: "lm_head.weight",
      shape: [c.vocabSize, d],
      role: "head",
    });
  }
  return specs;
}

/** Total number of trainable scalars. */
export function parameterCount(c: ModelConfig): number {
  return parameterSpecs(c).reduce(
    (n, p) => n + p.shape.reduce((a, b) => a * b, 1),
    0,
  );
}
