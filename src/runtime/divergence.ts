/**
 * When a run has diverged. A diverged run has no black-hole verdict: NaN rows
 * all share one bit pattern and would otherwise read as a perfect black hole
 * (C = 1, P = vocabulary), and a run whose loss exploded says nothing about
 * the dynamics a hypothesis asks about.
 *
 * @module
 */

/**
 * A loss above this multiple of ln(vocabulary) counts as divergence. ln V is
 * the loss of a uniform prediction (4.85 for 128 bytes), where every run
 * starts; a healthy run only falls from there, while lr 10 reaches
 * 2,500-11,000 within a few steps.
 */
export const DIVERGENCE_LOSS_FACTOR = 10;

/** What was found to be out of bounds. */
export interface Divergence {
  /** 1-based step after which it was seen. */
  readonly step: number;
  /** `loss`, `gradient norm` or `parameter <name>`. */
  readonly quantity: string;
  /** The offending value (NaN, ±Infinity or the exploded loss). */
  readonly value: number;
}

/** Thrown when a run diverges; carries what ran before it. */
export class DivergedError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "DivergedError";
  /** Where the run diverged, and in what quantity. */
  readonly divergence: Divergence;
  /** Per-step losses up to and including the diverged step. */
  readonly losses: Float32Array;
  /** Per-step gradient norms up to and including the diverged step. */
  readonly gradNorms: Float32Array;

  /**
   * Builds the error from the divergence and the losses and gradient norms up
   * to it.
   */
  constructor(
    divergence: Divergence,
    history: { losses: Float32Array; gradNorms: Float32Array },
  ) {
    super(divergenceText(divergence));
    this.divergence = divergence;
    this.losses = history.losses;
    this.gradNorms = history.gradNorms;
  }
}

/**
 * "diverged at step N (quantity value)", as a run says it. A record read
 * back from JSON holds null where the value was NaN or ±Infinity (JSON has
 * neither), which reads "non-finite".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { divergenceText } from "./divergence.ts";
 * const at = (value: number) => ({ step: 7, quantity: "loss", value });
 * assert.equal(divergenceText(at(2534.123456)), "diverged at step 7 (loss 2534.12)");
 * assert.equal(divergenceText(at(NaN)), "diverged at step 7 (loss NaN)");
 * assert.equal(
 *   divergenceText(JSON.parse(JSON.stringify(at(Infinity)))),
 *   "diverged at step 7 (loss non-finite)",
 * );
 * ```
 */
export function divergenceText(d: Divergence): string {
  return `diverged at step ${d.step} (${d.quantity} ${formatValue(d.value)})`;
}

function formatValue(v: number | null): string {
  if (typeof v !== "number") return "non-finite";
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}

/** Largest loss a healthy run of this vocabulary can have. */
export function lossBound(vocabSize: number): number {
  return DIVERGENCE_LOSS_FACTOR * Math.log(vocabSize);
}

/**
 * The divergence shown by one step's loss and gradient norm, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepDivergence } from "./divergence.ts";
 * assert.equal(stepDivergence(3, 4.1, 0.7, 128), null);
 * assert.equal(stepDivergence(3, NaN, 0.7, 128)?.quantity, "loss");
 * assert.equal(stepDivergence(3, 2534, 90, 128)?.quantity, "loss");
 * assert.equal(stepDivergence(3, 4.1, Infinity, 128)?.quantity, "gradient norm");
 * ```
 */
export function stepDivergence(
  step: number,
  loss: number,
  gradNorm: number,
  vocabSize: number,
): Divergence | null {
  if (!Number.isFinite(loss) || loss > lossBound(vocabSize)) {
    return { step, quantity: "loss", value: loss };
  }
  if (!Number.isFinite(gradNorm)) {
    return { step, quantity: "gradient norm", value: gradNorm };
  }
  return null;
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    // x - x is 0 for finite x and NaN for NaN and ±Infinity.
    if (values[i] - values[i] !== 0) return i;
  }
  return -1;
}
