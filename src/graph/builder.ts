/**
 * Builds IR graphs: one method per primitive op, plus a few compositions that
 * models use (mean, one-hot, unbroadcast). Every method checks shapes at once
 * (through the op table's shape rules, `ops/mod.ts`), so a modelling mistake
 * fails where it is written, not inside onnxruntime. Each method emits exactly
 * the op it names: rewrites of the graph are named passes applied by their
 * callers (e.g. `join_padded.ts`, applied by autodiff).
 *
 * @example
 * ```ts
 * import { Builder } from "./builder.ts";
 * const b = new Builder();
 * const x = b.input("x", [2, 3]);
 * b.output("y", b.reduceSum(b.mul(x, x), [1], false));
 * console.log(b.nodes.length); // 2
 * ```
 *
 * @module
 */

import {
  type Attrs,
  type DType,
  GraphError,
  type Node,
  normaliseAxis,
  shapeString,
  type Value,
} from "./ir.ts";
import { type MatMulOptions, numAttr, type VjpBuilder } from "./op.ts";
import { broadcastAxes } from "./ops/broadcast.ts";
import { opDef } from "./ops/mod.ts";

export type { MatMulOptions } from "./op.ts";

/** A named graph output. */
export interface GraphOutput {
  /** Output name in the ONNX graph. */
  readonly name: string;
  /** The value the output holds. */
  readonly value: Value;
}

/**
 * A hand-written gradient for a value computed by several primitive ops: the
 * cotangents of `inputs` given the cotangent `dy` of the value. Autodiff uses
 * it instead of differentiating through the ops that produced the value.
 */
export interface CustomGradient {
  /** The values the gradient flows to. */
  readonly inputs: readonly Value[];
  /**
   * Cotangent of each of `inputs` given the value's cotangent `dy` (null: no
   * gradient to that input).
   */
  readonly vjp: (dy: Value) => readonly (Value | null)[];
}

/** Accumulates values and nodes of one graph. */
export class Builder implements VjpBuilder {
  /** Nodes in creation (= topological) order. */
  readonly nodes: Node[] = [];
  /** Graph inputs in declaration order. */
  readonly inputs: Value[] = [];
  /** Graph outputs in declaration order. */
  readonly outputs: GraphOutput[] = [];
  #nextId = 0;
  #inputNames = new Set<string>();
  #scalars = new Map<number, Value>();
  #aranges = new Map<number, Value>();
  /** Hand-written VJPs of composite values, by value id (see customGradient). */
  readonly customGradients = new Map<number, CustomGradient>();
  /** Storage casts of cotangents, by value id (see castCotangent). */
  readonly cotangentCasts = new Map<number, (g: Value) => Value>();

  /**
   * Concats that `joinPaddedSum` (join_padded.ts) made of zero-padded pieces,
   * by value id, each with the ids of the zero gaps it put between them (see
   * {@link padded}).
   */
  readonly paddedJoins = new Map<number, ReadonlySet<number>>();

  /**
   * The non-zero pieces of a zero-padded value (a Pad, or a join of padded
   * pieces made by `joinPaddedSum`) along its padded axis, with their starts
   * (a join's zero gaps left out); null for any other value.
   */
  padded(
    v: Value,
  ): { axis: number; pieces: { start: number; value: Value }[] } | null {
    if (v.source.kind !== "node") return null;
    const node = v.source.node;
    const rank = v.shape.length;
    let inner = v, at = 0;
    if (node.op === "Pad") {
      inner = node.inputs[0];
      at = numAttr(node.attrs, "before");
    } else if (!this.paddedJoins.has(v.id)) return null;
    const axis = normaliseAxis(numAttr(node.attrs, "axis"), rank);
    const gaps = this.paddedJoins.get(inner.id);
    if (!gaps) return { axis, pieces: [{ start: at, value: inner }] };
    const pieces: { start: number; value: Value }[] = [];
    for (const piece of (inner.source as { node: Node }).node.inputs) {
      if (!gaps.has(piece.id)) pieces.push({ start: at, value: piece });
      at += piece.shape[axis];
    }
    return { axis, pieces };
  }

  /** Declares a graph input. */
  input(
    name: string,
    shape: readonly number[],
    dtype: DType = "float32",
  ): Value {
    if (this.#inputNames.has(name)) {
      throw new GraphError(`input ${name} declared twice`);
    }
    this.#inputNames.add(name);
    const v: Value = {
      id: this.#nextId++,
      shape: [...shape],
      dtype,
      source: { kind: "input", name },
    };
    this.inputs.push(v);
    return v;
  }

  /** A constant tensor (float32, int32 or bool data). */
  constant(
    data: Float32Array | Int32Array | Uint8Array,
    shape: readonly number[],
    dtype: DType = "float32",
  ): Value {
    const n = shape.reduce((a, d) => a * d, 1);
    if (data.length !== n) {
      throw new GraphError(
        `constant of ${data.length} values for shape ${shapeString(shape)}`,
      );
    }
    return {
      id: this.#nextId++,
      shape: [...shape],
      dtype,
      source: { kind: "const", data },
    };
  }

  /** A float32 scalar constant (shared between uses of the same value). */
  scalar(value: number): Value {
    const key = Math.fround(value);
    let v = this.#scalars.get(key);
    if (!v) {
      v = this.constant(new Float32Array([key]), []);
      this.#scalars.set(key, v);
    }
    return v;
  }

  /**
   * Declares the gradient of a composite `value` with respect to `inputs`
   * (like jax.custom_vjp): used where the composed ops' generic gradients cost
   * many more passes over memory than the closed form. Every custom gradient
   * is checked against finite differences like a primitive's VJP.
   */
  customGradient(
    value: Value,
    inputs: readonly Value[],
    vjp: (dy: Value) => readonly (Value | null)[],
  ): Value {
    if (value.source.kind !== "node") {
      throw new GraphError("a custom gradient needs a computed value");
    }
    this.customGradients.set(value.id, { inputs, vjp });
    return value;
  }

  /**
   * Declares that `value`'s cotangent is held in a narrower type, as
   * PyTorch holds the gradient of a bf16 tensor in bf16: autodiff passes
   * every contribution to that cotangent through `cast` (the op that made
   * the contribution rounds its output) and casts again after each sum (the
   * accumulation itself rounds). Contributions are summed as autodiff meets
   * the consumers, last created first, which is also the order of PyTorch's
   * autograd engine; a custom gradient that lists one input several times
   * contributes in its listed order.
   */
  castCotangent(value: Value, cast: (g: Value) => Value): Value {
    this.cotangentCasts.set(value.id, cast);
    return value;
  }

  /** Names `value` as a graph output. */
  output(name: string, value: Value): void {
    if (this.outputs.some((o) => o.name === name)) {
      throw new GraphError(`output ${name} declared twice`);
    }
    this.outputs.push({ name, value });
  }

  /** Applies a primitive op of the op table (`OPS`). */
  apply(op: string, inputs: readonly Value[], attrs: Attrs = {}): Value {
    const { shape, dtype } = opDef(op).infer(inputs, attrs);
    const node = { op, inputs, attrs } as {
      op: string;
      inputs: readonly Value[];
      attrs: Attrs;
      output: Value;
    };
    node.output = {
      id: this.#nextId++,
      shape: [...shape],
      dtype,
      source: { kind: "node", node },
    };
    this.nodes.push(node);
    return node.output;
  }

  // ------------------------------------------------------------ arithmetic
  /** Elementwise `a + b`, numpy broadcasting. */
  add(a: Value, b: Value): Value {
    return this.apply("Add", [a, b]);
  }
  /** Elementwise `a - b`, numpy broadcasting. */
  sub(a: Value, b: Value): Value {
    return this.apply("Sub", [a, b]);
  }
  /** Elementwise `a * b`, numpy broadcasting. */
  mul(a: Value, b: Value): Value {
    return this.apply("Mul", [a, b]);
  }
  /** Elementwise `a / b`, numpy broadcasting. */
  div(a: Value, b: Value): Value {
    return this.apply("Div", [a, b]);
  }
  /** Elementwise minimum, numpy broadcasting. */
  min(a: Value, b: Value): Value {
    return this.apply("Min", [a, b]);
  }
  /** Elementwise maximum, numpy broadcasting. */
  max(a: Value, b: Value): Value {
    return this.apply("Max", [a, b]);
  }
  /** Elementwise `-x`. */
  neg(x: Value): Value {
    return this.apply("Neg", [x]);
  }
  /** Elementwise square root. */
  sqrt(x: Value): Value {
    return this.apply("Sqrt", [x]);
  }
  /** Elementwise `e^x`. */
  exp(x: Value): Value {
    return this.apply("Exp", [x]);
  }
  /** Elementwise natural logarithm. */
  log(x: Value): Value {
    return this.apply("Log", [x]);
  }
  /** Elementwise hyperbolic tangent. */
  tanh(x: Value): Value {
    return this.apply("Tanh", [x]);
  }
  /** Elementwise absolute value. */
  abs(x: Value): Value {
    return this.apply("Abs", [x]);
  }

  // ---------------------------------------------------- comparison, select
  /** Elementwise `a === b` as bool, numpy broadcasting. */
  equal(a: Value, b: Value): Value {
    return this.apply("Equal", [a, b]);
  }
  /** Elementwise `a < b` as bool, numpy broadcasting. */
  less(a: Value, b: Value): Value {
    return this.apply("Less", [a, b]);
  }
  /** Elementwise `cond ? a : b` (`cond` bool), numpy broadcasting. */
  where(cond: Value, a: Value, b: Value): Value {
    return this.apply("Where", [cond, a, b]);
  }
  /** `x` converted to dtype `to`. */
  cast(x: Value, to: DType): Value {
    return this.apply("Cast", [x], { to });
  }

  // ------------------------------------------------------------ structure
  /** Matrix product over the last two axes; leading (batch) axes broadcast. */
  matmul(a: Value, b: Value, opts: MatMulOptions = {}): Value {
    return this.apply("MatMul", [a, b], {
      transA: opts.transA ? 1 : 0,
      transB: opts.transB ? 1 : 0,
    });
  }
  /** `x` with a new shape of the same size (returns `x` when unchanged). */
  reshape(x: Value, shape: readonly number[]): Value {
    if (x.shape.join() === shape.join()) return x;
    return this.apply("Reshape", [x], { shape: [...shape] });
  }
  /** `x` with its axes permuted: output axis i is input axis `perm[i]`. */
  transpose(x: Value, perm: readonly number[]): Value {
    return this.apply("Transpose", [x], { perm: [...perm] });
  }
  /** `x` broadcast to `shape` (returns `x` when unchanged). */
  expand(x: Value, shape: readonly number[]): Value {
    if (x.shape.join() === shape.join()) return x;
    return this.apply("Expand", [x], { shape: [...shape] });
  }
  /** Sum over `axes`, keeping them as size 1 when `keepdims`. */
  reduceSum(x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.apply("ReduceSum", [x], {
      axes: [...axes],
      keepdims: keepdims ? 1 : 0,
    });
  }
  /** Maximum over `axes`, keeping them as size 1 when `keepdims`. */
  reduceMax(x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.apply("ReduceMax", [x], {
      axes: [...axes],
      keepdims: keepdims ? 1 : 0,
    });
  }
  /**
   * Rows of `data` (axis 0) at int32 `indices`: `y[i, ...] = data[indices[i],
   * ...]`.
   */
  gather(data: Value, indices: Value): Value {
    return this.apply("Gather", [data, indices]);
  }
  /** Softmax over the last axis. */
  softmax(x: Value): Value {
    return this.apply("Softmax", [x]);
  }
  /** Elements `[start, end)` along `axis`. */
  slice(x: Value, axis: number, start: number, end: number): Value {
    return this.apply("Slice", [x], { axis, start, end });
  }
  /** Joins values along `axis`. */
  concat(values: readonly Value[], axis: number): Value {
    if (values.length === 1) return values[0];
    return this.apply("Concat", values, { axis });
  }
  /** Zero padding of `before`/`after` elements along `axis`. */
  pad(x: Value, axis: number, before: number, after: number): Value {
    return this.apply("Pad", [x], { axis, before, after });
  }

  // ---------------------------------------------------------- compositions

  /** Mean over `axes`, as a sum times the float32 reciprocal of the count. */
  mean(x: Value, axes: readonly number[], keepdims: boolean): Value {
    const count = axes.reduce(
      (n, a) => n * x.shape[a < 0 ? a + x.shape.length : a],
      1,
    );
    return this.mul(this.reduceSum(x, axes, keepdims), this.scalar(1 / count));
  }

  /**
   * Sums `dy` over the axes along which a tensor of `shape` was broadcast,
   * returning a cotangent of exactly `shape`.
   */
  unbroadcast(dy: Value, shape: readonly number[]): Value {
    if (dy.shape.join() === shape.join()) return dy;
    const axes = broadcastAxes(dy.shape, shape);
    const summed = axes.length ? this.reduceSum(dy, axes, true) : dy;
    return this.reshape(summed, shape);
  }

  /**
   * float32 one-hot matrix [n, depth] of int32 `indices` [n], built from ops
   * that every backend runs on its own device (no OneHot op: it falls back to
   * the CPU on WebGPU).
   */
  oneHot(indices: Value, depth: number): Value {
    if (indices.shape.length !== 1 || indices.dtype !== "int32") {
      throw new GraphError("oneHot needs int32 indices of rank 1");
    }
    let arange = this.#aranges.get(depth);
    if (!arange) {
      const data = new Int32Array(depth).map((_, i) => i);
      arange = this.constant(data, [1, depth], "int32");
      this.#aranges.set(depth, arange);
    }
    const ids = this.reshape(indices, [indices.shape[0], 1]);
    return this.cast(this.equal(ids, arange), "float32");
  }
}
