/**
 * Confirming candidates: rows with equal keys are split into classes of
 * byte-identical rows, so a hash collision can cost time but never change a
 * count; the classes of two or more rows make the report.
 *
 * @module
 */

import type { BlackHoleCluster, BlackHoleReport } from "./types.ts";

/** Whether two ranges of one buffer hold the same bytes. */
function rangesEqual(
  bytes: Uint8Array,
  words: Int32Array | null,
  a: number,
  b: number,
  length: number,
): boolean {
  if (words !== null) {
    // 4-byte words where the ranges allow it (always, for real embeddings).
    const wa = a >> 2;
    const wb = b >> 2;
    const n = length >> 2;
    for (let k = 0; k < n; k++) {
      if (words[wa + k] !== words[wb + k]) return false;
    }
    for (let k = n * 4; k < length; k++) {
      if (bytes[a + k] !== bytes[b + k]) return false;
    }
    return true;
  }
  for (let k = 0; k < length; k++) {
    if (bytes[a + k] !== bytes[b + k]) return false;
  }
  return true;
}

/**
 * Splits a candidate group into classes of byte-identical rows. `bytes`
 * holds the group's rows back to back, in the group's order. Classes keep
 * the group's (ascending) order; each row is compared with one
 * representative per class, so a true cluster costs one comparison per
 * member.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partitionEqual } from "./partition.ts";
 * // Rows 3, 5, 8, 9 of some matrix, one byte each: 1 2 1 2.
 * const classes = partitionEqual(new Uint8Array([1, 2, 1, 2]), [3, 5, 8, 9], 1);
 * assert.deepEqual(classes, [[3, 8], [5, 9]]);
 * ```
 */
export function partitionEqual(
  bytes: Uint8Array,
  group: number[],
  rowBytes: number,
): number[][] {
  const reps: number[] = []; // index within the group of each class's first row
  const classes: number[][] = [];
  const words = bytes.byteOffset % 4 === 0 && rowBytes % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2)
    : null;
  for (let i = 0; i < group.length; i++) {
    let placed = false;
    for (let c = 0; c < reps.length; c++) {
      if (
        rangesEqual(bytes, words, reps[c] * rowBytes, i * rowBytes, rowBytes)
      ) {
        classes[c].push(group[i]);
        placed = true;
        break;
      }
    }
    if (!placed) {
      reps.push(i);
      classes.push([group[i]]);
    }
  }
  return classes;
}

/**
 * The report of a matrix of `rows` rows from its clusters (sorted here: by
 * population descending, then smallest token ascending) and its non-finite
 * rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportOf } from "./partition.ts";
 * const r = reportOf(6, [
 *   { population: 2, tokens: [1, 4] },
 *   { population: 3, tokens: [0, 2, 5] },
 * ], []);
 * assert.deepEqual([r.C, r.P, r.distinct], [2, 5, 3]);
 * assert.deepEqual(r.clusters[0].tokens, [0, 2, 5]);
 * ```
 */
export function reportOf(
  rows: number,
  clusters: BlackHoleCluster[],
  nonFinite: number[],
): BlackHoleReport {
  clusters.sort((x, y) =>
    y.population - x.population || x.tokens[0] - y.tokens[0]
  );
  let P = 0;
  for (const c of clusters) P += c.population;
  return {
    rows,
    distinct: rows - nonFinite.length - P + clusters.length,
    C: clusters.length,
    P,
    clusters,
    nonFinite,
  };
}
