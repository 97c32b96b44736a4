/**
 * Static slicing along one axis and its adjoint, zero padding along one axis.
 * Each is the other's VJP.
 *
 * @module
 */

import { GraphError, normaliseAxis, stridesOf } from "../ir.ts";
import { numAttr, type OpDef } from "../op.ts";
import { zeros } from "../tensor.ts";

/** Copies a block between tensors that differ only along `axis`. */
function copyAlong(
  src: { shape: readonly number[]; data: ArrayLike<number> },
  dst: { shape: readonly number[]; data: { [i: number]: number } },
  axis: number,
  srcStart: number,
  dstStart: number,
  len: number,
): void {
  const outer = src.shape.slice(0, axis).reduce((a, d) => a * d, 1);
  const inner = stridesOf(src.shape)[axis];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < len; i++) {
      const s = (o * src.shape[axis] + srcStart + i) * inner;
      const d = (o * dst.shape[axis] + dstStart + i) * inner;
      for (let k = 0; k < inner; k++) dst.data[d + k] = src.data[s + k];
    }
  }
}

/** Elements `[start, end)` along `axis` (attributes). */
export const Slice: OpDef = {
  infer([x], attrs) {
    const axis = normaliseAxis(numAttr(attrs, "axis"), x.shape.length);
    const start = numAttr(attrs, "start"), end = numAttr(attrs, "end");
    if (!(0 <= start && start < end && end <= x.shape[axis])) {
      throw new GraphError(
        `Slice: [${start}, ${end}) outside axis ${axis} of size ${
          x.shape[axis]
        }`,
      );
    }
    const shape = [...x.shape];
    shape[axis] = end - start;
    return { shape, dtype: x.dtype };
  },
  evaluate([x], attrs, out) {
    const axis = normaliseAxis(numAttr(attrs, "axis"), x.shape.length);
    const y = zeros(x.dtype, out.shape);
    const start = numAttr(attrs, "start");
    copyAlong(
      { shape: x.shape, data: x.data },
      { shape: out.shape, data: y.data },
      axis,
      start,
      0,
      out.shape[axis],
    );
    return y;
  },
  // The slice's cotangent is the gradient of its window, zero elsewhere.
  vjp(b, node, dy) {
    const x = node.inputs[0];
    const axis = normaliseAxis(numAttr(node.attrs, "axis"), x.shape.length);
    const start = numAttr(node.attrs, "start");
    const end = numAttr(node.attrs, "end");
    return [b.pad(dy, axis, start, x.shape[axis] - end)];
  },
  lower(e, node, [x], output) {
    const a = node.attrs;
    e.node("Slice", [
      x,
      e.int64([numAttr(a, "start")]),
      e.int64([numAttr(a, "end")]),
      e.int64([numAttr(a, "axis")]),
    ], [output]);
  },
};

/** Zero padding of `before`/`after` elements along `axis` (attributes). */
export const Pad: OpDef = {
  infer([x], attrs) {
    const axis = normaliseAxis(numAttr(attrs, "axis"), x.shape.length);
    const before = numAttr(attrs, "before"), after = numAttr(attrs, "after");
    if (before < 0 || after < 0) throw new GraphError("Pad: negative padding");
    const shape = [...x.shape];
    shape[axis] += before + after;
    return { shape, dtype: x.dtype };
  },
  evaluate([x], attrs, out) {
    const axis = normaliseAxis(numAttr(attrs, "axis"), x.shape.length);
    const y = zeros(x.dtype, out.shape);
    copyAlong(
      { shape: x.shape, data: x.data },
      { shape: out.shape, data: y.data },
      axis,
      0,
      numAttr(attrs, "before"),
      x.shape[axis],
    );
    return y;
  },
  vjp(b, node, dy) {
    const x = node.inputs[0];
    const axis = normaliseAxis(numAttr(node.attrs, "axis"), x.shape.length);
    const before = numAttr(node.attrs, "before");
    return [b.slice(dy, axis, before, before + x.shape[axis])];
  },
  lower(e, node, [x], output) {
    const rank = node.inputs[0].shape.length;
    const axis = normaliseAxis(numAttr(node.attrs, "axis"), rank);
    const pads = new Array<number>(2 * rank).fill(0);
    pads[axis] = numAttr(node.attrs, "before");
    pads[rank + axis] = numAttr(node.attrs, "after");
    e.node("Pad", [x, e.int64(pads)], [output]);
  },
};
