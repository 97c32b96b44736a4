/**
 * The op table: every primitive op of the IR, by name. The builder's shape
 * inference, autodiff, the reference interpreter and the ONNX lowering look
 * ops up here; a node's `op` is a key of {@link OPS}.
 *
 * The table is assembled explicitly from the definitions each op file
 * exports (no op registers itself when imported), so adding an op means
 * adding it here, and nothing depends on the order modules were loaded in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPS, opDef } from "./mod.ts";
 * assert.equal(opDef("MatMul"), OPS.MatMul);
 * assert.throws(() => opDef("Conv"), /unknown op Conv/);
 * ```
 *
 * @module
 */

import { GraphError } from "../ir.ts";
import type { OpDef } from "../op.ts";
import { Concat } from "./concat.ts";
import {
  Abs,
  Add,
  Cast,
  Div,
  Equal,
  Exp,
  Less,
  Log,
  Max,
  Min,
  Mul,
  Neg,
  Sqrt,
  Sub,
  Tanh,
  Where,
} from "./elementwise.ts";
import { Gather } from "./gather.ts";
import { MatMul } from "./matmul.ts";
import { ReduceMax, ReduceSum } from "./reduce.ts";
import { Expand, Reshape, Transpose } from "./shape.ts";
import { Pad, Slice } from "./slice.ts";
import { Softmax } from "./softmax.ts";

/** Every primitive op, by its IR name. */
export const OPS = Object.freeze(
  {
    Neg,
    Sqrt,
    Exp,
    Log,
    Tanh,
    Abs,
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Equal,
    Less,
    Where,
    Cast,
    MatMul,
    ReduceSum,
    ReduceMax,
    Reshape,
    Transpose,
    Expand,
    Gather,
    Softmax,
    Slice,
    Pad,
    Concat,
  } as const satisfies Readonly<Record<string, OpDef>>,
);

/** The name of a primitive op. */
export type OpName = keyof typeof OPS;

/** Looks up a primitive op in {@link OPS}; throws for unknown names. */
export function opDef(name: string): OpDef {
  // Own keys only: "toString" or "constructor" name no op.
  if (!Object.hasOwn(OPS, name)) throw new GraphError(`unknown op ${name}`);
  return OPS[name as OpName];
}
