/**
 * Elementwise ops: unary maths, broadcasting binary arithmetic, comparisons,
 * selection and casts. Each differentiable op's VJP sits right under its
 * forward.
 *
 * @module
 */

import {
  type Attrs,
  broadcastShapes,
  type DType,
  GraphError,
  type Node,
  shapeString,
  type Value,
} from "../ir.ts";
import type { OpDef, VjpBuilder } from "../op.ts";
import { type HostTensor, zeros } from "../tensor.ts";
import { broadcastMap } from "./broadcast.ts";

function requireFloat(v: Value, op: string): void {
  if (v.dtype !== "float32") {
    throw new GraphError(`${op} needs float32 input, got ${v.dtype}`);
  }
}

// ---------------------------------------------------------------- unary maths

function unary(
  onnxOp: string,
  f: (x: number) => number,
  vjp?: (b: VjpBuilder, node: Node, dy: Value) => (Value | null)[],
): OpDef {
  return {
    infer(inputs) {
      requireFloat(inputs[0], onnxOp);
      return { shape: inputs[0].shape, dtype: "float32" };
    },
    evaluate([x], _attrs, out) {
      const y = zeros(out.dtype, out.shape);
      const xd = x.data, yd = y.data;
      for (let i = 0; i < yd.length; i++) yd[i] = f(xd[i]);
      return y;
    },
    vjp,
    lower(e, _node, inputs, output) {
      e.node(onnxOp, inputs, [output]);
    },
  };
}

/** Elementwise `-x`. */
export const Neg: OpDef = unary("Neg", (x) => -x, (b, _n, dy) => [b.neg(dy)]);

/**
 * Elementwise square root.
 *
 * d sqrt(x) = 1 / (2 sqrt(x)): reuse the output instead of recomputing sqrt.
 */
export const Sqrt: OpDef = unary(
  "Sqrt",
  Math.sqrt,
  (b, n, dy) => [b.div(b.mul(dy, b.scalar(0.5)), n.output)],
);

/** Elementwise `e^x`. */
export const Exp: OpDef = unary(
  "Exp",
  Math.exp,
  (b, n, dy) => [b.mul(dy, n.output)],
);

/** Elementwise natural logarithm. */
export const Log: OpDef = unary(
  "Log",
  Math.log,
  (b, n, dy) => [b.div(dy, n.inputs[0])],
);

/**
 * Elementwise hyperbolic tangent.
 *
 * d tanh(x) = 1 - tanh(x)^2
 */
export const Tanh: OpDef = unary("Tanh", Math.tanh, (b, n, dy) => [
  b.mul(dy, b.sub(b.scalar(1), b.mul(n.output, n.output))),
]);

/**
 * Elementwise absolute value (no VJP).
 *
 * Abs is only used after differentiation (bf16 rounding of the update).
 */
export const Abs: OpDef = unary("Abs", Math.abs);

// ------------------------------------------------------- binary broadcasting

function binaryInfer(op: string, outDtype?: DType) {
  return (inputs: readonly Value[]) => {
    const [a, b] = inputs;
    if (a.dtype !== b.dtype) {
      throw new GraphError(
        `${op}: dtype mismatch ${a.dtype} vs ${b.dtype}`,
      );
    }
    if (!outDtype) requireFloat(a, op);
    return {
      shape: broadcastShapes(a.shape, b.shape),
      dtype: outDtype ?? a.dtype,
    };
  };
}

function binaryEval(f: (a: number, b: number) => number) {
  return (
    [a, b]: readonly HostTensor[],
    _attrs: Attrs,
    out: { shape: readonly number[]; dtype: DType },
  ): HostTensor => {
    const y = zeros(out.dtype, out.shape);
    const ma = broadcastMap(out.shape, a.shape);
    const mb = broadcastMap(out.shape, b.shape);
    const ad = a.data, bd = b.data, yd = y.data;
    for (let i = 0; i < yd.length; i++) yd[i] = f(ad[ma[i]], bd[mb[i]]);
    return y;
  };
}

function binary(
  onnxOp: string,
  f: (a: number, b: number) => number,
  vjp?: (b: VjpBuilder, node: Node, dy: Value) => (Value | null)[],
  outDtype?: DType,
): OpDef {
  return {
    infer: binaryInfer(onnxOp, outDtype),
    evaluate: binaryEval(f),
    vjp,
    lower(e, _node, inputs, output) {
      e.node(onnxOp, inputs, [output]);
    },
  };
}

// Every binary VJP ends in `unbroadcast`: a broadcast input receives the sum of
// the cotangent over the axes it was stretched along.

/** Elementwise `a + b`, numpy broadcasting. */
export const Add: OpDef = binary("Add", (a, b) => a + b, (b, n, dy) => [
  b.unbroadcast(dy, n.inputs[0].shape),
  b.unbroadcast(dy, n.inputs[1].shape),
]);

/** Elementwise `a - b`, numpy broadcasting. */
export const Sub: OpDef = binary("Sub", (a, b) => a - b, (b, n, dy) => [
  b.unbroadcast(dy, n.inputs[0].shape),
  b.unbroadcast(b.neg(dy), n.inputs[1].shape),
]);

/** Elementwise `a * b`, numpy broadcasting. */
export const Mul: OpDef = binary("Mul", (a, b) => a * b, (b, n, dy) => [
  b.unbroadcast(b.mul(dy, n.inputs[1]), n.inputs[0].shape),
  b.unbroadcast(b.mul(dy, n.inputs[0]), n.inputs[1].shape),
]);

/**
 * Elementwise `a / b`, numpy broadcasting.
 *
 * y = a / b:  da = dy / b,  db = -dy * a / b^2 = -(dy * y) / b
 */
export const Div: OpDef = binary("Div", (a, b) => a / b, (b, n, dy) => [
  b.unbroadcast(b.div(dy, n.inputs[1]), n.inputs[0].shape),
  b.unbroadcast(
    b.neg(b.div(b.mul(dy, n.output), n.inputs[1])),
    n.inputs[1].shape,
  ),
]);

// Min/Max only clamp the clipping coefficient, after differentiation.

/** Elementwise minimum (no VJP). */
export const Min: OpDef = binary("Min", Math.min);
/** Elementwise maximum (no VJP). */
export const Max: OpDef = binary("Max", Math.max);

// --------------------------------------------------------------- comparisons

function comparison(onnxOp: string, f: (a: number, b: number) => boolean) {
  return binary(onnxOp, (a, b) => (f(a, b) ? 1 : 0), undefined, "bool");
}

/** Elementwise `a === b` as bool. */
export const Equal: OpDef = comparison("Equal", (a, b) => a === b);
/** Elementwise `a < b` as bool. */
export const Less: OpDef = comparison("Less", (a, b) => a < b);

// ----------------------------------------------------------------- selection

/**
 * Elementwise `cond ? a : b`.
 *
 * y = cond ? a : b. Gradients flow to the branch that was selected.
 */
export const Where: OpDef = {
  infer([c, a, b]) {
    if (c.dtype !== "bool") {
      throw new GraphError("Where: condition must be bool");
    }
    if (a.dtype !== b.dtype) {
      throw new GraphError("Where: branch dtypes differ");
    }
    return {
      shape: broadcastShapes(broadcastShapes(c.shape, a.shape), b.shape),
      dtype: a.dtype,
    };
  },
  evaluate([c, a, b], _attrs, out) {
    const y = zeros(out.dtype, out.shape);
    const mc = broadcastMap(out.shape, c.shape);
    const ma = broadcastMap(out.shape, a.shape);
    const mb = broadcastMap(out.shape, b.shape);
    for (let i = 0; i < y.data.length; i++) {
      y.data[i] = c.data[mc[i]] ? a.data[ma[i]] : b.data[mb[i]];
    }
    return y;
  },
  vjp(b, n, dy) {
    const [c, x, z] = n.inputs;
    const zero = b.scalar(0);
    return [
      null,
      b.unbroadcast(b.where(c, dy, zero), x.shape),
      b.unbroadcast(b.where(c, zero, dy), z.shape),
    ];
  },
  lower(e, _node, inputs, output) {
    e.node("Where", inputs, [output]);
  },
};

// -------------------------------------------------------------------- casts

/** Conversion to the dtype of attribute `to` (no VJP). */
export const Cast: OpDef = {
  infer([x], attrs) {
    const to = attrs.to;
    if (to !== "float32" && to !== "int32" && to !== "bool") {
      throw new GraphError(`Cast: unsupported target ${String(to)}`);
    }
    return { shape: x.shape, dtype: to };
  },
  evaluate([x], _attrs, out) {
    const y = zeros(out.dtype, out.shape);
    for (let i = 0; i < y.data.length; i++) {
      const v = x.data[i];
      y.data[i] = out.dtype === "bool" ? (v !== 0 ? 1 : 0) : v;
    }
    if (out.dtype === "int32" && x.dtype === "float32") {
      for (let i = 0; i < y.data.length; i++) y.data[i] = Math.trunc(x.data[i]);
    }
    return y;
  },
  lower(e, node, inputs, output) {
    e.node("Cast", inputs, [output], {
      to: { type: node.attrs.to as "float32" | "int32" | "bool" },
    });
  },
};

/** Shape check used by builders that need identical shapes. */
export function assertSameShape(a: Value, b: Value, what: string): void {
  if (a.shape.join() !== b.shape.join()) {
    throw new GraphError(
      `${what}: shapes ${shapeString(a.shape)} and ${
        shapeString(b.shape)
      } differ`,
    );
  }
}
