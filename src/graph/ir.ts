/**
 * The tensor IR that horizon compiles a training step into.
 *
 * A graph is a list of single-output nodes in topological order (the builder
 * appends nodes only after their inputs exist). Shapes are static: every value
 * knows its full shape when it is created, so the ONNX emitter can declare every
 * tensor's shape and the reference interpreter can allocate exactly.
 *
 * @module
 */

/** Element types the IR knows. `bool` is produced by comparisons only. */
export type DType = "float32" | "int32" | "bool";

/** Attribute values carried by a node (kept JSON-like for hashing and printing). */
export type AttrValue = number | string | readonly number[];

/** Attributes of a node, by name. */
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Where a value comes from. */
export type ValueSource =
  | { kind: "input"; name: string }
  | { kind: "const"; data: Float32Array | Int32Array | Uint8Array }
  | { kind: "node"; node: Node };

/** A tensor-valued SSA variable of the graph. */
export interface Value {
  /** Unique id within its builder, in creation order. */
  readonly id: number;
  /** Dimensions, outermost first (`[]` for a scalar). */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: DType;
  /** Whether it is a graph input, a constant or a node's output. */
  readonly source: ValueSource;
}

/** One operation applied to input values, producing one output value. */
export interface Node {
  /** Name of the primitive op (a key of the op table `OPS`), e.g. `MatMul`. */
  readonly op: string;
  /** The op's operands, in order. */
  readonly inputs: readonly Value[];
  /** The op's attributes. */
  readonly attrs: Attrs;
  /** The value the node produces. */
  readonly output: Value;
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Human-readable shape, e.g. `[32,128,64]`. */
export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Numpy-style broadcast of two shapes; throws on incompatible shapes. */
export function broadcastShapes(
  a: readonly number[],
  b: readonly number[],
): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new GraphError(
        `cannot broadcast ${shapeString(a)} with ${shapeString(b)}`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises a possibly negative axis against a rank. */
export function normaliseAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw new GraphError(`axis ${axis} out of range for rank ${rank}`);
  }
  return a;
}

/** Raised for malformed graphs: shape mismatches, unknown ops, bad attributes. */
export class GraphError extends Error {
  override name = "GraphError";
}
