/**
 * Concatenation along one axis; its VJP slices the cotangent back apart.
 *
 * @module
 */

import { GraphError, normaliseAxis } from "../ir.ts";
import { MAX_KERNEL_BUFFERS, numAttr, type OpDef } from "../op.ts";
import { zeros } from "../tensor.ts";
import { stridesOf } from "../ir.ts";

/** Inputs joined along attribute `axis`. */
export const Concat: OpDef = {
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new GraphError("Concat needs inputs");
    const rank = inputs[0].shape.length;
    const axis = normaliseAxis(numAttr(attrs, "axis"), rank);
    const shape = [...inputs[0].shape];
    shape[axis] = 0;
    for (const v of inputs) {
      if (
        v.dtype !== inputs[0].dtype || v.shape.length !== rank ||
        v.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i])
      ) {
        throw new GraphError("Concat: inputs differ outside the axis");
      }
      shape[axis] += v.shape[axis];
    }
    return { shape, dtype: inputs[0].dtype };
  },
  evaluate(inputs, attrs, out) {
    const axis = normaliseAxis(numAttr(attrs, "axis"), out.shape.length);
    const y = zeros(out.dtype, out.shape);
    const outer = out.shape.slice(0, axis).reduce((a, d) => a * d, 1);
    const inner = stridesOf(out.shape)[axis];
    let start = 0;
    for (const x of inputs) {
      const len = x.shape[axis];
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < len * inner; i++) {
          y.data[(o * out.shape[axis] + start) * inner + i] =
            x.data[o * len * inner + i];
        }
      }
      start += len;
    }
    return y;
  },
  vjp(b, node, dy) {
    const axis = normaliseAxis(numAttr(node.attrs, "axis"), dy.shape.length);
    let start = 0;
    return node.inputs.map((x) => {
      const piece = b.slice(dy, axis, start, start + x.shape[axis]);
      start += x.shape[axis];
      return piece;
    });
  },
  lower(e, node, inputs, output) {
    const axis = { int: numAttr(node.attrs, "axis") };
    // One WebGPU kernel binds every input and the output as storage
    // buffers, and adapters cap those per shader (lavapipe: 32): longer
    // concatenations (R replicates' pieces) are joined in stages.
    let parts = [...inputs];
    while (parts.length > MAX_KERNEL_BUFFERS - 1) {
      const staged: string[] = [];
      for (let i = 0; i < parts.length; i += MAX_KERNEL_BUFFERS - 1) {
        const chunk = parts.slice(i, i + MAX_KERNEL_BUFFERS - 1);
        if (chunk.length === 1) {
          staged.push(chunk[0]);
          continue;
        }
        const joined = e.temp("concat");
        e.node("Concat", chunk, [joined], { axis });
        staged.push(joined);
      }
      parts = staged;
    }
    e.node("Concat", parts, [output], { axis });
  },
};
