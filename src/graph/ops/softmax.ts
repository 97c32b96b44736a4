/**
 * Softmax over the last axis, as one primitive so that its VJP is the compact
 * `y * (dy - sum(dy * y))` instead of the derivative of five composed ops.
 *
 * @module
 */

import { GraphError } from "../ir.ts";
import type { OpDef } from "../op.ts";
import { zeros } from "../tensor.ts";

/** Softmax over the last axis. */
export const Softmax: OpDef = {
  infer([x]) {
    if (x.dtype !== "float32") throw new GraphError("Softmax needs float32");
    return { shape: x.shape, dtype: "float32" };
  },
  evaluate([x], _attrs, out) {
    const y = zeros("float32", out.shape);
    const n = x.shape[x.shape.length - 1];
    for (let o = 0; o < x.data.length; o += n) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, x.data[o + j]);
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const v = Math.exp(x.data[o + j] - max);
        y.data[o + j] = v;
        sum += v;
      }
      for (let j = 0; j < n; j++) y.data[o + j] /= sum;
    }
    return y;
  },
  vjp(b, node, dy) {
    const y = node.output;
    const last = y.shape.length - 1;
    const dot = b.reduceSum(b.mul(dy, y), [last], true);
    return [b.mul(y, b.sub(dy, dot))];
  },
  lower(e, node, [x], output) {
    e.node("Softmax", [x], [output], {
      axis: { int: node.inputs[0].shape.length - 1 },
    });
  },
};
