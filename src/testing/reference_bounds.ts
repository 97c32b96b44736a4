/**
 * How far a trained state is from a PyTorch reference fixture's, and the
 * bounds tools/reference/README.md derives for it from float32-vs-float64
 * noise. The first Adam steps move each element by about lr * sign(g), so an
 * element whose gradient is float32 noise (|g| < 1e-6, e.g. the key bias,
 * whose true gradient is exactly 0) may move by up to 2 lr between two
 * correct implementations; in bf16 storage a rounding may land one bf16 ulp
 * away.
 *
 * @module
 */

import assert from "node:assert/strict";

/** Differences beyond this count as "far" (README.md's bound). */
const FAR = 1e-5;

/** Element-wise distance of parameters from the reference, accumulated. */
export class StateDistance {
  /** Largest |got - ref|. */
  max = 0;
  /** Elements with |got - ref| > {@link FAR}. */
  far = 0;
  /** Elements that differ at all. */
  differ = 0;
  /** Elements compared. */
  total = 0;

  /** Adds one tensor's elements. */
  add(got: Float32Array, ref: Float32Array, name = ""): void {
    assert.equal(got.length, ref.length, name);
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i] - ref[i]);
      this.max = Math.max(this.max, d);
      if (d > FAR) this.far++;
      if (d > 0) this.differ++;
    }
    this.total += got.length;
  }

  /** One line for the test log. */
  toString(): string {
    return `max|diff| ${
      this.max.toExponential(2)
    }, ${this.differ}/${this.total} differ, ${this.far} beyond ${
      FAR.toExponential(0)
    }`;
  }
}

/** What {@link assertStateBounds} checks a state by, and its name. */
export interface StateBounds {
  readonly precision: "fp32" | "bf16";
  /** Peak learning rate. */
  readonly lr0: number;
  /** Names the state in the message. */
  readonly label: string;
}

/**
 * README.md's bounds on parameters after AdamW updates: fp32, no element
 * beyond 2 lr0 and at most 0.1% beyond 1e-5; bf16, none beyond 5e-4 and at
 * most 1% of elements differ.
 */
export function assertStateBounds(
  d: StateDistance,
  { precision, lr0, label }: StateBounds,
): void {
  const line = `${label}: ${d}`;
  if (precision === "fp32") {
    assert.ok(d.max <= 2 * lr0, line);
    assert.ok(d.far <= 1e-3 * d.total, line);
  } else {
    assert.ok(d.max <= 5e-4, line);
    assert.ok(d.differ <= 1e-2 * d.total, line);
  }
}
