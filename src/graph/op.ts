/**
 * The contract every primitive op fulfils, and the registry that holds them.
 *
 * Each op keeps its shape rule, its float64 reference semantics, its
 * vector-Jacobian product and its ONNX lowering in one place, so that a reader
 * can check a gradient against the forward it differentiates.
 *
 * @module
 */

import type { Attrs, DType, Node, Value } from "./ir.ts";
import { GraphError } from "./ir.ts";
import type { HostTensor } from "./tensor.ts";
import type { Builder } from "./builder.ts";

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
  vjp?(b: Builder, node: Node, dy: Value): readonly (Value | null)[];
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

const registry = new Map<string, OpDef>();

/** Registers a primitive op under its IR name. */
export function defineOp(name: string, def: OpDef): void {
  if (registry.has(name)) throw new GraphError(`op ${name} defined twice`);
  registry.set(name, def);
}

/** Looks up a primitive op; throws for unknown names. */
export function opDef(name: string): OpDef {
  const def = registry.get(name);
  if (!def) throw new GraphError(`unknown op ${name}`);
  return def;
}

/** Names of every registered op (for tests that cover them all). */
export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}

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
