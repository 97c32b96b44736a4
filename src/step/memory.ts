/**
 * A bound on what one training run may ask of memory. The sizes a user can
 * set (`batchSize`, `seqLen`, the model's dimensions) multiply into the
 * memory onnxruntime allocates for one step; without a bound a typo such as
 * `--set batchSize=20000` passes validation and the process is killed by the
 * kernel minutes later, silently. The estimate is deliberately simple (float32
 * everywhere, the forward activations kept for the backward pass and as many
 * again for their gradients); it only has to be the right order of
 * magnitude to turn an impossible run into a one-line error before any work.
 *
 * @module
 */

import type { TrainConfig } from "./config.ts";

/**
 * Largest estimated training memory a run may need: 16 GiB. The seeds'
 * config needs about 0.15 GiB, so this leaves a hundredfold margin for
 * experiments while refusing what no ordinary machine can hold.
 */
export const MAX_TRAINING_MEMORY_BYTES = 16 * 2 ** 30;

/**
 * Estimated bytes one training step of `config` allocates: parameters,
 * gradients and the two AdamW moments, in and out of the step (8 float32 per
 * parameter), plus the activations of every layer (norms, q/k/v, attention
 * scores and probabilities per head, the MLP's 4x expansion, residuals) and
 * the logits, kept for the backward pass and matched by their gradients.
 * Computed in floating point: a huge config gives a huge number, never a
 * wrapped one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEED_RUN } from "./config.ts";
 * import { MAX_TRAINING_MEMORY_BYTES, trainingMemoryBytes } from "./memory.ts";
 * assert.ok(trainingMemoryBytes(SEED_RUN) < 2 ** 30);
 * assert.ok(
 *   trainingMemoryBytes({ ...SEED_RUN, batchSize: 20_000 }) >
 *     MAX_TRAINING_MEMORY_BYTES,
 * );
 * ```
 */
export function trainingMemoryBytes(config: TrainConfig): number {
  const { vocabSize: v, dModel: d, nLayer, nHead, context } = config.model;
  const head = config.model.tiedHead ? 0 : v * d;
  const params = v * d + context * d + nLayer * (12 * d * d + 13 * d) +
    2 * d + head;
  const tokens = config.batchSize * config.seqLen;
  // Dropout adds its masks and the masked copies: 2 per embedding, attention
  // probability and residual branch element.
  const dropout = config.model.dropout
    ? 2 * (d + nLayer * (nHead * config.seqLen + 2 * d))
    : 0;
  const perToken = nLayer * (18 * d + 3 * nHead * config.seqLen) + 3 * v +
    dropout;
  return 4 * (8 * params + 2 * tokens * perToken);
}

/** `bytes` in GiB for a message, e.g. `86.4 GiB`. */
export function formatGiB(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return `${gib < 10 ? gib.toFixed(2) : gib.toFixed(1)} GiB`;
}
