/**
 * Row lookup `y[i, ...] = data[indices[i], ...]` (ONNX Gather, axis 0).
 *
 * @module
 */

import { GraphError, sizeOf } from "../ir.ts";
import type { OpDef } from "../op.ts";
import { zeros } from "../tensor.ts";

/** Rows of `data` (axis 0) at int32 `indices`. */
export const Gather: OpDef = {
  infer([data, indices]) {
    if (indices.dtype !== "int32") {
      throw new GraphError("Gather: indices must be int32");
    }
    if (data.shape.length < 1) throw new GraphError("Gather: data is a scalar");
    return {
      shape: [...indices.shape, ...data.shape.slice(1)],
      dtype: data.dtype,
    };
  },
  evaluate([data, indices], _attrs, out) {
    const y = zeros(data.dtype, out.shape);
    const row = sizeOf(data.shape.slice(1));
    const rows = data.shape[0];
    for (let i = 0; i < indices.data.length; i++) {
      const r = indices.data[i];
      if (r < 0 || r >= rows) {
        throw new GraphError(`Gather: index ${r} outside [0, ${rows})`);
      }
      y.data.set(data.data.subarray(r * row, (r + 1) * row), i * row);
    }
    return y;
  },
  // The scatter-add a lookup's gradient needs is written as a one-hot matrix
  // product: onehot(indices)^T @ dY. ScatterND/ScatterElements with add are
  // non-deterministic on WebGPU, and a matmul keeps every backend bit-stable
  // (and rows of never-seen tokens exactly zero).
  vjp(b, node, dy) {
    const [data, indices] = node.inputs;
    const n = sizeOf(indices.shape);
    const rest = data.shape.slice(1);
    const oneHot = b.oneHot(b.reshape(indices, [n]), data.shape[0]); // [n, V]
    const flat = b.reshape(dy, [n, sizeOf(rest)]); // [n, rest]
    const grad = b.matmul(oneHot, flat, { transA: true }); // [V, rest]
    return [b.reshape(grad, data.shape), null];
  },
  lower(e, _node, inputs, output) {
    e.node("Gather", inputs, [output], { axis: { int: 0 } });
  },
};
