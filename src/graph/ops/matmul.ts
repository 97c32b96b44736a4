/**
 * Batched matrix product with optional transposition of either operand's last
 * two axes: `Y = op(A) @ op(B)` where `op` transposes when `transA`/`transB`
 * is 1. Batch axes broadcast (numpy rules).
 *
 * The transpose flags exist so that gradients (which need `A^T` and `B^T`) map
 * onto ONNX Gemm's transA/transB in the 2-D case instead of materialising a
 * transposed copy.
 *
 * @module
 */

import { broadcastShapes, GraphError, shapeString, sizeOf } from "../ir.ts";
import { numAttr, type OpDef } from "../op.ts";
import { zeros } from "../tensor.ts";
import { broadcastMap } from "./broadcast.ts";

function dims(shape: readonly number[], trans: boolean): [number, number] {
  const r = shape[shape.length - 2], c = shape[shape.length - 1];
  return trans ? [c, r] : [r, c];
}

/** Batched matrix product, attributes `transA`, `transB` (0 or 1). */
export const MatMul: OpDef = {
  infer([a, b], attrs) {
    if (a.dtype !== "float32" || b.dtype !== "float32") {
      throw new GraphError("MatMul needs float32 operands");
    }
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new GraphError("MatMul operands must have rank >= 2");
    }
    const [m, k] = dims(a.shape, numAttr(attrs, "transA") === 1);
    const [k2, n] = dims(b.shape, numAttr(attrs, "transB") === 1);
    if (k !== k2) {
      throw new GraphError(
        `MatMul: inner dimensions differ for ${shapeString(a.shape)} and ${
          shapeString(b.shape)
        } (transA=${attrs.transA}, transB=${attrs.transB})`,
      );
    }
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return { shape: [...batch, m, n], dtype: "float32" };
  },
  evaluate([a, b], attrs, out) {
    const ta = numAttr(attrs, "transA") === 1;
    const tb = numAttr(attrs, "transB") === 1;
    const [m, k] = dims(a.shape, ta);
    const n = out.shape[out.shape.length - 1];
    const batchShape = out.shape.slice(0, -2);
    const batches = sizeOf(batchShape);
    const ma = broadcastMap(batchShape, a.shape.slice(0, -2));
    const mb = broadcastMap(batchShape, b.shape.slice(0, -2));
    const ar = a.shape[a.shape.length - 1]; // row stride of A as stored
    const br = b.shape[b.shape.length - 1];
    const y = zeros("float32", out.shape);
    for (let t = 0; t < batches; t++) {
      const ao = ma[t] * a.shape[a.shape.length - 2] * ar;
      const bo = mb[t] * b.shape[b.shape.length - 2] * br;
      const yo = t * m * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) {
            const av = ta ? a.data[ao + p * ar + i] : a.data[ao + i * ar + p];
            const bv = tb ? b.data[bo + j * br + p] : b.data[bo + p * br + j];
            s += av * bv;
          }
          y.data[yo + i * n + j] = s;
        }
      }
    }
    return y;
  },
  // With Y = op(A) op(B), each case's cotangents are again products, chosen so
  // that no explicit transpose is needed:
  //   plain:   dA = dY B^T        dB = A^T dY
  //   transA:  dA = B dY^T        dB = A dY
  //   transB:  dA = dY B          dB = dY^T A
  //   both:    dA = B^T dY^T      dB = dY^T A^T
  vjp(g, node, dy) {
    const [a, b] = node.inputs;
    const ta = node.attrs.transA === 1, tb = node.attrs.transB === 1;
    let da, db;
    if (!ta && !tb) {
      da = g.matmul(dy, b, { transB: true });
      db = g.matmul(a, dy, { transA: true });
    } else if (ta && !tb) {
      da = g.matmul(b, dy, { transB: true });
      db = g.matmul(a, dy);
    } else if (!ta && tb) {
      da = g.matmul(dy, b);
      db = g.matmul(dy, a, { transA: true });
    } else {
      da = g.matmul(b, dy, { transA: true, transB: true });
      db = g.matmul(dy, a, { transA: true, transB: true });
    }
    return [g.unbroadcast(da, a.shape), g.unbroadcast(db, b.shape)];
  },
  lower(e, node, [a, b], output) {
    const ta = node.attrs.transA === 1, tb = node.attrs.transB === 1;
    const [x, w] = node.inputs;
    if (x.shape.length === 2 && w.shape.length === 2) {
      if (!ta && !tb) e.node("MatMul", [a, b], [output]);
      else {
        e.node("Gemm", [a, b], [output], {
          transA: { int: ta ? 1 : 0 },
          transB: { int: tb ? 1 : 0 },
        });
      }
      return;
    }
    const swap = (name: string, rank: number) => {
      const perm = [...Array(rank).keys()];
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      const t = e.temp(`${name}_T`);
      e.node("Transpose", [name], [t], { perm: { ints: perm } });
      return t;
    };
    e.node(
      "MatMul",
      [ta ? swap(a, x.shape.length) : a, tb ? swap(b, w.shape.length) : b],
      [output],
    );
  },
};
