/**
 * Index arithmetic shared by the reference interpreter's broadcasting ops.
 *
 * @module
 */

import { sizeOf, stridesOf } from "../ir.ts";

/**
 * For every flat index of `outShape`, the flat index into an input of
 * `inShape` broadcast to it (numpy rules, right-aligned).
 */
export function broadcastMap(
  outShape: readonly number[],
  inShape: readonly number[],
): Int32Array {
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const rank = outShape.length;
  const inStrides = stridesOf(inShape);
  // Stride 0 along broadcast axes makes the input index ignore them.
  const eff = new Array<number>(rank).fill(0);
  for (let i = 0; i < rank; i++) {
    const j = i - (rank - inShape.length);
    if (j >= 0 && inShape[j] !== 1) eff[i] = inStrides[j];
  }
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let k = 0; k < n; k++) {
    map[k] = off;
    for (let i = rank - 1; i >= 0; i--) {
      idx[i]++;
      off += eff[i];
      if (idx[i] < outShape[i]) break;
      off -= eff[i] * idx[i];
      idx[i] = 0;
    }
  }
  return map;
}

/** Axes along which `inShape` was broadcast to reach `outShape`. */
export function broadcastAxes(
  outShape: readonly number[],
  inShape: readonly number[],
): number[] {
  const axes: number[] = [];
  const lead = outShape.length - inShape.length;
  for (let i = 0; i < outShape.length; i++) {
    const d = i < lead ? 1 : inShape[i - lead];
    if (d === 1 && outShape[i] !== 1) axes.push(i);
  }
  return axes;
}
