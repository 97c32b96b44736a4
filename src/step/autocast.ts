/**
 * An emulation of torch autocast's bf16 matrix products, for experiments that
 * ask how much the seeds' all-bf16 arithmetic matters: operands are rounded to
 * bf16 before each product and the product is rounded to bf16 after it
 * (float32 accumulation in between, like bf16 GEMM kernels), in the forward
 * pass and in both products of its gradient.
 *
 * This covers the matrix products (and, in the step, bf16 parameter
 * gradients); elementwise operations stay float32, unlike a model cast to
 * bf16 as a whole. It is opt-in (`autocast: true`) and leaves horizon's
 * default bf16 contract untouched.
 *
 * @module
 */

import type { Builder, MatMulOptions } from "../graph/builder.ts";
import type { Node, Value } from "../graph/ir.ts";
import { opDef } from "../graph/ops/mod.ts";
import { roundToBf16InGraph } from "./bf16_graph.ts";

/**
 * `bf16(bf16(a) @ bf16(w))`, with the gradient products computed the same
 * way from the rounded operands and the rounded cotangent.
 */
export function autocastMatmul(
  b: Builder,
  a: Value,
  w: Value,
  opts: MatMulOptions = {},
): Value {
  const ra = roundToBf16InGraph(b, a);
  const rw = roundToBf16InGraph(b, w);
  const raw = b.matmul(ra, rw, opts);
  const y = roundToBf16InGraph(b, raw);
  const node = (raw.source as { node: Node }).node;
  return b.customGradient(y, [a, w], (dy) => {
    // MatMul's own VJP table, applied to the rounded operands.
    const rounded = { ...node, inputs: [ra, rw] } as Node;
    const vjp = opDef("MatMul").vjp!;
    return vjp(b, rounded, roundToBf16InGraph(b, dy)).map((g) =>
      g ? roundToBf16InGraph(b, g) : null
    );
  });
}
