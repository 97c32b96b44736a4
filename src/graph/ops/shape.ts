/**
 * Ops that move data without arithmetic: reshape, transpose, expand.
 *
 * @module
 */

import {
  broadcastShapes,
  GraphError,
  shapeString,
  sizeOf,
  stridesOf,
} from "../ir.ts";
import { intsAttr, type OpDef } from "../op.ts";
import { zeros } from "../tensor.ts";
import { broadcastMap } from "./broadcast.ts";

/** `x` with attribute `shape` (same size). */
export const Reshape: OpDef = {
  infer([x], attrs) {
    const shape = intsAttr(attrs, "shape");
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new GraphError(`Reshape: explicit shape needed, got ${shape}`);
    }
    if (sizeOf(shape) !== sizeOf(x.shape)) {
      throw new GraphError(
        `Reshape: ${shapeString(x.shape)} has ${sizeOf(x.shape)} elements, ${
          shapeString(shape)
        } needs ${sizeOf(shape)}`,
      );
    }
    return { shape, dtype: x.dtype };
  },
  evaluate([x], _attrs, out) {
    return { dtype: x.dtype, shape: out.shape, data: x.data.slice() };
  },
  vjp: (b, node, dy) => [b.reshape(dy, node.inputs[0].shape)],
  lower(e, node, [x], output) {
    e.node("Reshape", [x, e.int64(intsAttr(node.attrs, "shape"))], [output]);
  },
};

/** `x` with its axes permuted by attribute `perm`. */
export const Transpose: OpDef = {
  infer([x], attrs) {
    const perm = intsAttr(attrs, "perm");
    const sorted = [...perm].sort((a, b) => a - b);
    if (
      perm.length !== x.shape.length || sorted.some((p, i) => p !== i)
    ) {
      throw new GraphError(
        `Transpose: bad perm ${perm} for rank ${x.shape.length}`,
      );
    }
    return { shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
  },
  evaluate([x], attrs, out) {
    const perm = intsAttr(attrs, "perm");
    const y = zeros(x.dtype, out.shape);
    const inStrides = stridesOf(x.shape);
    const outStrides = stridesOf(out.shape);
    for (let o = 0; o < y.data.length; o++) {
      let i = 0;
      for (let d = 0; d < perm.length; d++) {
        const coord = Math.floor(o / outStrides[d]) % out.shape[d];
        i += coord * inStrides[perm[d]];
      }
      y.data[o] = x.data[i];
    }
    return y;
  },
  vjp(b, node, dy) {
    const perm = intsAttr(node.attrs, "perm");
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [b.transpose(dy, inverse)];
  },
  lower(e, node, [x], output) {
    e.node("Transpose", [x], [output], {
      perm: { ints: intsAttr(node.attrs, "perm") },
    });
  },
};

/**
 * `x` broadcast to attribute `shape`.
 *
 * Broadcast to a larger shape; the VJP sums back over the stretched axes.
 */
export const Expand: OpDef = {
  infer([x], attrs) {
    const shape = intsAttr(attrs, "shape");
    const out = broadcastShapes(x.shape, shape);
    if (out.join() !== shape.join()) {
      throw new GraphError(
        `Expand: ${shapeString(x.shape)} does not broadcast to ${
          shapeString(shape)
        }`,
      );
    }
    return { shape, dtype: x.dtype };
  },
  evaluate([x], _attrs, out) {
    const y = zeros(x.dtype, out.shape);
    const m = broadcastMap(out.shape, x.shape);
    for (let i = 0; i < y.data.length; i++) y.data[i] = x.data[m[i]];
    return y;
  },
  vjp: (b, node, dy) => [b.unbroadcast(dy, node.inputs[0].shape)],
  lower(e, node, [x], output) {
    e.node("Expand", [x, e.int64(intsAttr(node.attrs, "shape"))], [output]);
  },
};
