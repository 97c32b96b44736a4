/**
 * The padded-sum join: a rewrite of `a + b` that autodiff applies when it sums
 * cotangent contributions.
 *
 * A slice's gradient is its cotangent zero-padded back to the sliced tensor's
 * shape (the Slice VJP emits a Pad). A tensor sliced into many pieces (the
 * flat parameter vector, q/k/v, heads) thus receives a sum of paddings, and a
 * chain of Adds passes over the full tensor once per piece. Where the pieces'
 * windows along one axis do not overlap, the same sum is one Concat of the
 * pieces (with zero gaps between them) inside one Pad.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Builder } from "./builder.ts";
 * import { joinPaddedSum } from "./join_padded.ts";
 * const b = new Builder();
 * const x = b.input("x", [6]);
 * const sum = joinPaddedSum(
 *   b,
 *   b.pad(b.slice(x, 0, 0, 2), 0, 0, 4),
 *   b.pad(b.slice(x, 0, 3, 5), 0, 3, 1),
 * );
 * assert.equal(sum?.source.kind === "node" && sum.source.node.op, "Pad");
 * ```
 *
 * @module
 */

import type { Builder } from "./builder.ts";
import type { Value } from "./ir.ts";

/** A non-zero piece of a padded value and where it starts along the axis. */
interface Piece {
  readonly start: number;
  readonly value: Value;
}

/**
 * `a + b` for two zero paddings (Pads, or joins this pass made earlier) of
 * pieces whose windows along the same axis do not overlap, as one Pad of the
 * pieces' Concat (zero constants fill the gaps between them); null where the
 * rule does not apply, and the caller emits a plain Add.
 *
 * Why: one Concat where a chain of sums would pass over the full tensor once
 * per piece (slice gradients meeting in autodiff's sums). The values are the
 * sum's but for the sign of a zero: -0 + 0 is +0, the joined piece keeps -0.
 * The join is recorded in `b.paddedJoins`, so that `b.padded` sees its pieces
 * and later sums (and the bf16 cotangent rounding) can join or round them
 * piece by piece.
 */
export function joinPaddedSum(b: Builder, a: Value, c: Value): Value | null {
  const pa = b.padded(a), pc = b.padded(c);
  if (
    !pa || !pc || pa.axis !== pc.axis || a.dtype !== "float32" ||
    a.dtype !== c.dtype || a.shape.join() !== c.shape.join()
  ) return null;
  const axis = pa.axis;
  const end = (p: Piece) => p.start + p.value.shape[axis];
  const pieces = [...pa.pieces, ...pc.pieces].sort((x, y) => x.start - y.start);
  if (pieces.some((p, i) => i > 0 && p.start < end(pieces[i - 1]))) {
    return null;
  }
  const parts: Value[] = [];
  const gaps = new Set<number>();
  let at = pieces[0].start;
  for (const p of pieces) {
    if (p.start > at) {
      const shape = [...a.shape];
      shape[axis] = p.start - at;
      const gap = b.constant(
        new Float32Array(shape.reduce((n, d) => n * d, 1)),
        shape,
      );
      gaps.add(gap.id);
      parts.push(gap);
    }
    parts.push(p.value);
    at = end(p);
  }
  const joined = b.concat(parts, axis);
  b.paddedJoins.set(joined.id, gaps);
  const after = a.shape[axis] - at;
  if (pieces[0].start === 0 && after === 0) return joined;
  return b.pad(joined, axis, pieces[0].start, after);
}
