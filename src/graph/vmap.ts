/**
 * Replicates a graph along a new leading axis (JAX's `vmap` on horizon's IR):
 * R independent copies of one computation, each with its own values of the
 * batched inputs, run as one graph. Every node of the source graph becomes
 * the same op on tensors with a leading replicate axis R, rewritten so that
 * each replicate's slice goes through the same kernel, with the same shapes
 * and the same order of float32 operations, as the solo graph: a matrix
 * product stays one product per replicate (a batched MatMul), a row or
 * column sum that the solo graph lowers to a product with a ones vector
 * stays one, a reduction of rows stays a reduction of rows, and any other
 * reduction (over a leading axis, or of a whole tensor) is cut out per
 * replicate and reduced alone.
 *
 * Whether the backends then compute bit-identical numbers per replicate is a
 * property of their kernels, not of the graph: runtime/replicates_test.ts
 * measures it (bit-identical on cpu and wasm, float32-close on WebGPU).
 *
 * The transform runs on a finished graph (after autodiff), so custom
 * gradients and cotangent casts have already become ordinary nodes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Builder } from "./builder.ts";
 * import { vmapGraph } from "./vmap.ts";
 * const b = new Builder();
 * const x = b.input("x", [2, 3]);
 * const w = b.input("w", [3, 4]);
 * b.output("y", b.matmul(x, w));
 * // Three replicates of x, one shared w.
 * const r = vmapGraph(b, { replicas: 3, batched: new Set(["x"]) });
 * assert.deepEqual(r.inputs.map((v) => v.shape), [[3, 2, 3], [3, 4]]);
 * assert.deepEqual(r.outputs[0].value.shape, [3, 2, 4]);
 * ```
 *
 * @module
 */

import { Builder } from "./builder.ts";
import {
  type Attrs,
  GraphError,
  type Node,
  normaliseAxis,
  type Value,
} from "./ir.ts";
import { intsAttr, numAttr } from "./op.ts";
import type { OpName } from "./ops/mod.ts";

/** Options of {@link vmapGraph}. */
export interface VmapOptions {
  /** Number of replicates R (the new leading axis), >= 1. */
  readonly replicas: number;
  /**
   * Names of the inputs that differ between replicates: they gain the
   * leading axis. Other inputs are shared by every replicate.
   */
  readonly batched: ReadonlySet<string>;
}

/** A value of the replicated graph and whether it has the leading axis. */
interface Mapped {
  readonly value: Value;
  readonly batched: boolean;
}

const ELEMENTWISE: ReadonlySet<string> = new Set<OpName>([
  "Neg",
  "Sqrt",
  "Exp",
  "Log",
  "Tanh",
  "Abs",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Min",
  "Max",
  "Equal",
  "Less",
  "Where",
  "Cast",
]);

/**
 * The graph of `source` replicated `replicas` times along a new leading axis.
 * Inputs named in `batched` become `[R, ...shape]`; every output becomes
 * `[R, ...shape]` (an output that depends on no batched input is broadcast).
 * Input and output names and their order are kept.
 */
export function vmapGraph(source: Builder, options: VmapOptions): Builder {
  const R = options.replicas;
  if (!Number.isInteger(R) || R < 1) {
    throw new RangeError(`replicas must be an integer >= 1, got ${R}`);
  }
  const names = new Set(
    source.inputs.map((v) => (v.source as { name: string }).name),
  );
  for (const name of options.batched) {
    if (!names.has(name)) throw new RangeError(`no input named ${name}`);
  }
  const b = new Builder();
  const mapped = new Map<number, Mapped>();
  for (const v of source.inputs) {
    const name = (v.source as { name: string }).name;
    const batched = options.batched.has(name);
    mapped.set(v.id, {
      value: b.input(name, batched ? [R, ...v.shape] : v.shape, v.dtype),
      batched,
    });
  }
  const lookup = (v: Value): Mapped => {
    const m = mapped.get(v.id);
    if (m) return m;
    if (v.source.kind !== "const") {
      throw new GraphError(`value ${v.id} used before it is defined`);
    }
    const c = {
      value: b.constant(v.source.data, v.shape, v.dtype),
      batched: false,
    };
    mapped.set(v.id, c);
    return c;
  };
  const rules = new Rules(b, R);
  for (const node of source.nodes) {
    const inputs = node.inputs.map(lookup);
    const value = inputs.some((m) => m.batched)
      ? rules.apply(node, inputs)
      : b.apply(node.op, inputs.map((m) => m.value), node.attrs);
    mapped.set(node.output.id, {
      value,
      batched: inputs.some((m) => m.batched),
    });
  }
  for (const { name, value } of source.outputs) {
    const m = lookup(value);
    b.output(
      name,
      m.batched ? m.value : b.expand(m.value, [R, ...value.shape]),
    );
  }
  return b;
}

/** The batching rule of each op: source node + mapped inputs -> output. */
class Rules {
  #b: Builder;
  #R: number;
  #ones = new Map<string, Value>();

  constructor(b: Builder, R: number) {
    this.#b = b;
    this.#R = R;
  }

  apply(node: Node, inputs: readonly Mapped[]): Value {
    const b = this.#b;
    const op = node.op;
    const rank = node.output.shape.length; // the output's rank per replicate
    if (ELEMENTWISE.has(op)) {
      return b.apply(op, inputs.map((m) => this.#align(m, rank)), node.attrs);
    }
    const [x] = inputs;
    const logical = node.inputs[0].shape;
    const shifted = (name: string): Attrs => ({
      ...node.attrs,
      [name]: normaliseAxis(numAttr(node.attrs, name), logical.length) + 1,
    });
    switch (op) {
      case "MatMul": {
        const target = Math.max(
          node.inputs[0].shape.length,
          node.inputs[1].shape.length,
        );
        return b.apply(
          "MatMul",
          inputs.map((m) => this.#align(m, target)),
          node.attrs,
        );
      }
      case "ReduceSum":
      case "ReduceMax":
        return this.#reduce(node, x.value);
      case "Reshape":
        return b.reshape(x.value, [this.#R, ...intsAttr(node.attrs, "shape")]);
      case "Transpose":
        return b.transpose(x.value, [
          0,
          ...intsAttr(node.attrs, "perm").map((p) => p + 1),
        ]);
      case "Expand":
        return b.expand(this.#align(x, rank), [
          this.#R,
          ...intsAttr(node.attrs, "shape"),
        ]);
      case "Slice":
      case "Pad":
        return b.apply(op, [x.value], shifted("axis"));
      case "Concat":
        return b.apply(
          "Concat",
          inputs.map((m, i) => this.#batch(m, node.inputs[i].shape)),
          shifted("axis"),
        );
      case "Softmax":
        // Over the last axis, per row: the leading axis changes nothing.
        return b.softmax(x.value);
      case "Gather":
        return this.#gather(node, inputs);
      default:
        throw new GraphError(`vmap: no batching rule for ${op}`);
    }
  }

  /**
   * A batched operand as a tensor of per-replicate rank `rank`: [R, 1, ...,
   * shape], so that numpy broadcasting pairs replicate with replicate. Shared
   * operands broadcast from the right as they are.
   */
  #align(m: Mapped, rank: number): Value {
    if (!m.batched) return m.value;
    const [R, ...shape] = m.value.shape;
    if (shape.length >= rank) return m.value;
    return this.#b.reshape(m.value, [
      R,
      ...new Array<number>(rank - shape.length).fill(1),
      ...shape,
    ]);
  }

  /** A value with the leading axis, broadcasting a shared one. */
  #batch(m: Mapped, shape: readonly number[]): Value {
    return m.batched ? m.value : this.#b.expand(m.value, [this.#R, ...shape]);
  }

  /**
   * A reduction per replicate. The solo graph lowers the sum of a matrix
   * along one axis to a product with a ones vector (see ops/reduce.ts); the
   * replicated sum is the same product per replicate, so each replicate runs
   * the solo kernel on the solo shapes. Row reductions keep their rows;
   * everything else is reduced per replicate slice.
   */
  #reduce(node: Node, x: Value): Value {
    const b = this.#b;
    const logical = node.inputs[0].shape;
    const axes = intsAttr(node.attrs, "axes").map((a) =>
      normaliseAxis(a, logical.length)
    );
    if (node.op === "ReduceSum" && logical.length === 2 && axes.length === 1) {
      const [rows, cols] = logical;
      const sum = axes[0] === 0
        ? b.matmul(this.#onesOf([1, rows]), x) // [R, 1, cols]
        : b.matmul(x, this.#onesOf([cols, 1])); // [R, rows, 1]
      return b.reshape(sum, [this.#R, ...node.output.shape]);
    }
    const kept = logical.length - axes.length;
    const rowwise = kept > 0 && axes.every((a, i) => a === kept + i);
    if (rowwise) {
      // Each row reduced on its own: more rows before them change nothing.
      return b.apply(node.op, [x], {
        ...node.attrs,
        axes: axes.map((a) => a + 1),
      });
    }
    // Any other reduction (over a leading axis, or everything) is cut out
    // per replicate and reduced alone: onnxruntime sums a [32, ...] block
    // inside an [R, 32, ...] tensor, or a lone vector vs the rows of a
    // matrix, in another order (the loss and the position embedding's
    // gradient moved by an ulp when replicates were an extra axis).
    const [d0, ...rest] = logical;
    const rows = b.reshape(x, [this.#R * d0, ...rest]);
    return b.concat(
      Array.from({ length: this.#R }, (_, r) =>
        b.reshape(
          b.apply(
            node.op,
            [b.slice(rows, 0, r * d0, (r + 1) * d0)],
            node.attrs,
          ),
          [1, ...node.output.shape],
        )),
      0,
    );
  }

  #onesOf(shape: [number, number]): Value {
    const key = shape.join("x");
    let ones = this.#ones.get(key);
    if (!ones) {
      ones = this.#b.constant(
        new Float32Array(shape[0] * shape[1]).fill(1),
        shape,
      );
      this.#ones.set(key, ones);
    }
    return ones;
  }

  /**
   * Rows of a replicated table: replicate r's indices are offset by r * rows
   * into the tables stacked as one [R * rows, ...] table (indices are small
   * integers, exact in float32).
   */
  #gather(node: Node, [data, indices]: readonly Mapped[]): Value {
    const b = this.#b;
    if (!data.batched) return b.gather(data.value, indices.value);
    const R = this.#R;
    const [rows, ...rest] = node.inputs[0].shape;
    const idxShape = node.inputs[1].shape;
    const ids = this.#batch(indices, idxShape); // [R, ...idx]
    const offsets = b.constant(
      Float32Array.from({ length: R }, (_, r) => r * rows),
      [R, ...new Array<number>(idxShape.length).fill(1)],
    );
    const shifted = b.cast(b.add(b.cast(ids, "float32"), offsets), "int32");
    return b.gather(b.reshape(data.value, [R * rows, ...rest]), shifted);
  }
}
