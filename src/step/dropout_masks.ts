/**
 * The host side of dropout: each step's masks, drawn from the run's own
 * PCG32 stream (`Stream.dropout`), so batch order, init and noise do not
 * change when dropout is switched on, and every backend gets the same bits.
 *
 * Rule, element by element in {@link dropoutLayout} order: one 32-bit draw
 * u; the element is dropped (0) when u / 2^32 < p, else kept (1/(1-p) as
 * float32). The drop probability is ceil(p 2^32) / 2^32, p to within 2^-32.
 * tools/reference/make_dropout.py draws the same masks with its own PCG32.
 *
 * @module
 */

import type { Pcg32 } from "../data/rng.ts";
import { type DropoutSegment, keepScale } from "../model/dropout.ts";

const TWO_32 = 4294967296;

/**
 * Draws one step's masks of `layout` into `out` (length: the layout's size).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pcg32 } from "../data/rng.ts";
 * import { drawDropoutMasks } from "./dropout_masks.ts";
 * const layout = [{ site: "embd" as const, layer: null, p: 0.5, shape: [4, 1000], offset: 0, size: 4000 }];
 * const out = new Float32Array(4000);
 * drawDropoutMasks(new Pcg32(42, 5), layout, out);
 * const kept = out.filter((x) => x === 2).length;
 * assert.equal(out.filter((x) => x === 0).length + kept, 4000);
 * assert.ok(Math.abs(kept - 2000) < 150);
 * ```
 */
export function drawDropoutMasks(
  rng: Pcg32,
  layout: readonly DropoutSegment[],
  out: Float32Array,
): Float32Array {
  // The draws land in the output's own bytes, read back as integers and
  // overwritten in place by the mask values.
  const draws = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (const s of layout) {
    // u / 2^32 < p  <=>  u < p 2^32 (exact: a power-of-two product).
    const below = s.p * TWO_32;
    const keep = keepScale(s.p);
    const end = s.offset + s.size;
    rng.fillUint32(draws.subarray(s.offset, end));
    for (let i = s.offset; i < end; i++) {
      out[i] = draws[i] < below ? 0 : keep;
    }
  }
  return out;
}
