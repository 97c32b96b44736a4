/**
 * Parameter initialisation: HF GPT-2's scheme and the "Qwen init" that
 * collapses every token embedding onto one random unit vector.
 *
 * @module
 */

import { type ModelConfig, parameterSpecs } from "./config.ts";

/**
 * Anything that draws standard normal numbers: a seeded PCG32 + Box-Muller
 * in runs, fixed values in tests.
 */
export interface NormalSource {
  /** The next draw from N(0, 1). */
  normal(): number;
}

/** How the token embedding starts. */
export type EmbeddingInit = "gpt2" | "qwen";

/** Options of {@link initParameters}. */
export interface InitOptions {
  /** `qwen`: every wte row is the same random unit vector. */
  embedding: EmbeddingInit;
  /** Round every value to bf16 (what `model.to(torch.bfloat16)` stores). */
  roundToBf16?: (values: Float32Array) => void;
}

/**
 * Fresh parameters by HF name: linear weights and embeddings N(0, 0.02),
 * residual projections (`c_proj`) N(0, 0.02/sqrt(2 n_layer)), biases 0, norm
 * weights 1. Draws are consumed in `parameterSpecs` order, row-major.
 *
 * @example
 * ```ts
 * import { initParameters } from "./init.ts";
 * import { SEED_MODEL } from "./config.ts";
 * const rng = { normal: () => 0.5 };
 * const p = initParameters(SEED_MODEL, rng, { embedding: "qwen" });
 * console.log(p.get("transformer.wte.weight")!.length); // 8192
 * ```
 */
export function initParameters(
  cfg: ModelConfig,
  rng: NormalSource,
  options: InitOptions,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const std = 0.02;
  const residualStd = std / Math.sqrt(2 * cfg.nLayer);
  for (const spec of parameterSpecs(cfg)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    switch (spec.role) {
      case "token-embedding":
      case "position-embedding":
      case "weight":
      case "head":
        for (let i = 0; i < n; i++) values[i] = std * rng.normal();
        break;
      case "residual-weight":
        for (let i = 0; i < n; i++) values[i] = residualStd * rng.normal();
        break;
      case "norm-weight":
        values.fill(1);
        break;
      case "bias":
      case "norm-bias":
        break;
    }
    out.set(spec.name, values);
  }
  if (options.embedding === "qwen") {
    const d = cfg.dModel;
    const direction = Float64Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...direction);
    const wte = out.get("transformer.wte.weight")!;
    for (let r = 0; r < cfg.vocabSize; r++) {
      for (let j = 0; j < d; j++) wte[r * d + j] = direction[j] / norm;
    }
  }
  if (options.roundToBf16) {
    for (const values of out.values()) options.roundToBf16(values);
  }
  return out;
}
