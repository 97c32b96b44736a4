/**
 * Dense host tensors used by the float64 reference interpreter.
 *
 * Floating tensors are held in float64 so that the interpreter is an oracle
 * whose own rounding error is far below float32's.
 *
 * @module
 */

import { type DType, GraphError, shapeString, sizeOf } from "./ir.ts";

/** Storage for each dtype in the interpreter. */
export type HostData = Float64Array | Int32Array | Uint8Array;

/** A dense row-major host tensor. */
export interface HostTensor {
  /** Element type. */
  readonly dtype: DType;
  /** Dimensions, outermost first (`[]` for a scalar). */
  readonly shape: readonly number[];
  /**
   * The elements, row-major: Float64Array for float32, Int32Array for int32,
   * Uint8Array (0/1) for bool.
   */
  readonly data: HostData;
}

/** Allocates a zero tensor of the given dtype and shape. */
export function zeros(dtype: DType, shape: readonly number[]): HostTensor {
  const n = sizeOf(shape);
  const data = dtype === "float32"
    ? new Float64Array(n)
    : dtype === "int32"
    ? new Int32Array(n)
    : new Uint8Array(n);
  return { dtype, shape, data };
}

/** Wraps numbers as a float tensor (float64 storage). */
export function floatTensor(
  shape: readonly number[],
  values: ArrayLike<number>,
): HostTensor {
  if (values.length !== sizeOf(shape)) {
    throw new GraphError(
      `${values.length} values do not fill shape ${shapeString(shape)}`,
    );
  }
  return { dtype: "float32", shape, data: Float64Array.from(values) };
}

/** Wraps integers as an int32 tensor. */
export function intTensor(
  shape: readonly number[],
  values: ArrayLike<number>,
): HostTensor {
  if (values.length !== sizeOf(shape)) {
    throw new GraphError(
      `${values.length} values do not fill shape ${shapeString(shape)}`,
    );
  }
  return { dtype: "int32", shape, data: Int32Array.from(values) };
}
