/**
 * Reductions over a set of axes.
 *
 * @module
 */

import { GraphError, normaliseAxis, sizeOf, stridesOf } from "../ir.ts";
import { intsAttr, numAttr, type OpDef } from "../op.ts";
import { type HostTensor, zeros } from "../tensor.ts";

function reducedShape(
  shape: readonly number[],
  axes: readonly number[],
  keep: boolean,
): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keep) out.push(1);
    } else out.push(d);
  });
  return out;
}

function axesOf(rank: number, attrs: Parameters<OpDef["infer"]>[1]): number[] {
  const axes = intsAttr(attrs, "axes").map((a) => normaliseAxis(a, rank));
  if (new Set(axes).size !== axes.length) {
    throw new GraphError("reduction axes repeat");
  }
  return axes.sort((a, b) => a - b);
}

function reduceEval(
  x: HostTensor,
  axes: readonly number[],
  init: number,
  f: (acc: number, v: number) => number,
): HostTensor {
  const keptShape = reducedShape(x.shape, axes, true);
  const y = zeros("float32", keptShape);
  y.data.fill(init);
  const inStrides = stridesOf(x.shape);
  const outStrides = stridesOf(keptShape);
  const n = sizeOf(x.shape);
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (let d = 0; d < x.shape.length; d++) {
      const coord = Math.floor(i / inStrides[d]) % x.shape[d];
      if (!axes.includes(d)) o += coord * outStrides[d];
    }
    y.data[o] = f(y.data[o], x.data[i]);
  }
  return y;
}

function reduction(
  onnxOp: string,
  init: number,
  f: (acc: number, v: number) => number,
  axesAsInput: boolean,
): Omit<OpDef, "vjp"> {
  return {
    infer([x], attrs) {
      if (x.dtype !== "float32") {
        throw new GraphError(`${onnxOp} needs float32`);
      }
      const axes = axesOf(x.shape.length, attrs);
      return {
        shape: reducedShape(x.shape, axes, numAttr(attrs, "keepdims") === 1),
        dtype: "float32",
      };
    },
    evaluate([x], attrs, out) {
      const y = reduceEval(x, axesOf(x.shape.length, attrs), init, f);
      return { dtype: "float32", shape: out.shape, data: y.data };
    },
    lower(e, node, [x], output) {
      const shape = node.inputs[0].shape;
      const axes = axesOf(shape.length, node.attrs);
      const keepdims = { int: numAttr(node.attrs, "keepdims") };
      if (axesAsInput && shape.length === 2 && axes.length === 1) {
        // Summing a matrix along one axis is a product with a ones vector;
        // onnxruntime's Gemm is several times faster than its ReduceSum over
        // a strided axis (bias gradients) and no slower over rows.
        const [rows, cols] = shape;
        const n = axes[0] === 0 ? rows : cols;
        const ones = e.floats(
          new Float32Array(n).fill(1),
          axes[0] === 0 ? [1, n] : [n, 1],
        );
        const product = e.temp("sum");
        if (axes[0] === 0) e.node("MatMul", [ones, x], [product]);
        else e.node("MatMul", [x, ones], [product]);
        e.node("Reshape", [product, e.int64(node.output.shape)], [output]);
        return;
      }
      // Opset 17: ReduceSum takes axes as an input, ReduceMax as an attribute.
      if (axesAsInput) {
        e.node(onnxOp, [x, e.int64(axes)], [output], { keepdims });
      } else {
        e.node(onnxOp, [x], [output], { axes: { ints: axes }, keepdims });
      }
    },
  };
}

/**
 * Sum over attribute `axes`, `keepdims` 0 or 1.
 *
 * The cotangent of a sum is copied to every summed element: restore the
 * reduced axes as size 1 and let it broadcast (autodiff expands it only where
 * a consumer needs the full shape).
 */
export const ReduceSum: OpDef = {
  ...reduction("ReduceSum", 0, (a, v) => a + v, true),
  vjp(b, node, dy) {
    const x = node.inputs[0];
    const axes = axesOf(x.shape.length, node.attrs);
    return [b.reshape(dy, reducedShape(x.shape, axes, true))];
  },
};

/**
 * Maximum over attribute `axes`, `keepdims` 0 or 1 (detached).
 *
 * ReduceMax only ever stabilises softmax / log-sum-exp, whose value does not
 * depend on the subtracted constant; its gradient there is exactly zero, so it
 * is treated as detached (no VJP contribution) rather than as a subgradient.
 */
export const ReduceMax: OpDef = {
  ...reduction("ReduceMax", -Infinity, Math.max, false),
  vjp: () => [null],
};
