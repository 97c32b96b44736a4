/**
 * The contract every primitive op fulfils: what an op definition holds and
 * what it is given (a narrow builder for its gradient, an emitter for its
 * lowering), plus the attribute readers the definitions share.
 *
 * Each op keeps its shape rule, its float64 reference semantics, its
 * vector-Jacobian product and its ONNX lowering in one place, so that a reader
 * can check a gradient against the forward it differentiates. The
 * definitions live in `ops/`, and `ops/mod.ts` gathers them into the op table
 * `OPS`. This file holds only types and pure helpers and imports neither the
 * builder nor the ops, so that op files (whose VJPs build graphs) and the
 * builder (which infers shapes through the table) never import each other.
 *
 * @module
 */

import type { Attrs, DType, Node, Value } from "./ir.ts";
import { GraphError } from "./ir.ts";
import type { HostTensor } from "./tensor.ts";

/** Options of a matrix product ({@link VjpBuilder.matmul}). */
export interface MatMulOptions {
  /** Use the transpose of the first operand's last two axes. */
  transA?: boolean;
  /** Use the transpose of the second operand's last two axes. */
  transB?: boolean;
}

/**
 * What the graph builder offers an op's VJP: the builder methods gradients
 * are written with. `Builder` implements it; op files depend on this
 * interface instead of the builder, which depends on the op table.
 */
export interface VjpBuilder {
  /** A float32 scalar constant. */
  scalar(value: number): Value;
  /** Elementwise `a + b`, numpy broadcasting. */
  add(a: Value, b: Value): Value;
  /** Elementwise `a - b`, numpy broadcasting. */
  sub(a: Value, b: Value): Value;
  /** Elementwise `a * b`, numpy broadcasting. */
  mul(a: Value, b: Value): Value;
  /** Elementwise `a / b`, numpy broadcasting. */
  div(a: Value, b: Value): Value;
  /** Elementwise `-x`. */
  neg(x: Value): Value;
  /** Elementwise `cond ? a : b` (`cond` bool), numpy broadcasting. */
  where(cond: Value, a: Value, b: Value): Value;
  /** Matrix product over the last two axes; leading (batch) axes broadcast. */
  matmul(a: Value, b: Value, opts?: MatMulOptions): Value;
  /** `x` with a new shape of the same size. */
  reshape(x: Value, shape: readonly number[]): Value;
  /** `x` with its axes permuted: output axis i is input axis `perm[i]`. */
  transpose(x: Value, perm: readonly number[]): Value;
  /** Sum over `axes`, keeping them as size 1 when `keepdims`. */
  reduceSum(x: Value, axes: readonly number[], keepdims: boolean): Value;
  /** Elements `[start, end)` along `axis`. */
  slice(x: Value, axis: number, start: number, end: number): Value;
  /** Zero padding of `before`/`after` elements along `axis`. */
  pad(x: Value, axis: number, before: number, after: number): Value;
  /** `dy` summed over the axes along which a tensor of `shape` broadcast. */
  unbroadcast(dy: Value, shape: readonly number[]): Value;
  /** float32 one-hot matrix [n, depth] of int32 `indices` [n]. */
  oneHot(indices: Value, depth: number): Value;
}

/** What the ONNX emitter offers an op lowering. */
export interface OnnxEmitter {
  /** Appends an ONNX node. Attribute values: int, float, ints, or string. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs?: Readonly<Record<string, OnnxAttr>>,
  ): void;
  /** A constant int64 tensor (shapes, axes), as an initializer name. */
  int64(values: readonly number[], shape?: readonly number[]): string;
  /** A constant float32 tensor, as an initializer name (deduplicated). */
  floats(values: Float32Array, shape: readonly number[]): string;
  /** A fresh intermediate tensor name. */
  temp(hint: string): string;
}

/** ONNX attribute values used by horizon's lowerings. */
export type OnnxAttr =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { type: "float32" | "int32" | "bool" };

/** A primitive op: forward semantics, gradient and lowering side by side. */
export interface OpDef {
  /** Output shape and dtype; throws GraphError on invalid inputs. */
  infer(
    inputs: readonly Value[],
    attrs: Attrs,
  ): { shape: readonly number[]; dtype: DType };
  /** Float64 reference evaluation (the test oracle). */
  evaluate(
    inputs: readonly HostTensor[],
    attrs: Attrs,
    out: { shape: readonly number[]; dtype: DType },
  ): HostTensor;
  /**
   * Gradient contributions for each input given the output's cotangent `dy`
   * (null where an input receives none). Absent for ops whose outputs are
   * never differentiated (comparisons, casts, the optimizer's arithmetic).
   */
  vjp?(b: VjpBuilder, node: Node, dy: Value): readonly (Value | null)[];
  /** Emits the ONNX node(s) computing `output` from `inputs`. */
  lower(
    e: OnnxEmitter,
    node: Node,
    inputs: readonly string[],
    output: string,
  ): void;
}

/**
 * Most tensors one ONNX node may read and write together: a WebGPU kernel
 * binds each as a storage buffer, and adapters cap those per shader stage
 * (lavapipe: 32; WebGPU guarantees 8, GPUs offer far more). Lowerings that
 * join or split many tensors (Concat, Split) stay within it.
 */
export const MAX_KERNEL_BUFFERS = 32;

/** Reads a numeric attribute or throws. */
export function numAttr(attrs: Attrs, name: string): number {
  const v = attrs[name];
  if (typeof v !== "number") {
    throw new GraphError(`attribute ${name} must be a number`);
  }
  return v;
}

/** Reads an integer-list attribute or throws. */
export function intsAttr(attrs: Attrs, name: string): readonly number[] {
  const v = attrs[name];
  if (!Array.isArray(v)) {
    throw new GraphError(`attribute ${name} must be a list of integers`);
  }
  return v as readonly number[];
}
