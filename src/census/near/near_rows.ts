/**
 * Near-identical rows: clusters of rows within a tolerance, beside the
 * exact (bit-identical) census.
 *
 * Two rows are *near* when every component differs by at most `ulps` units
 * in the last place of the stored dtype (`{ ulps }`), or when their cosine
 * similarity is at least `cosine` (`{ cosine }`). A cluster is a connected
 * group of the "near" relation (single linkage: its ends may be farther
 * apart than the tolerance) that holds at least two different vectors; a
 * group of bit-identical rows alone is the exact census's business.
 *
 * The search is exact: no false positives (every link is checked on the
 * full rows) and no missed pairs. Rows are split recursively on a few key
 * columns (those that vary most) into cells of width 16 tolerances; a row
 * within one tolerance of its cell's upper edge is also put in the next
 * cell, so two near rows always share a cell at every level. Only rows
 * sharing a final cell are compared. A tolerance so loose that the cells
 * cannot separate the rows would mean comparing all pairs; the search then
 * stops with an error instead of running for hours.
 *
 * @module
 */

import { CensusError } from "../census_error.ts";
import {
  decodeOrdinals,
  decodeValues,
  type FloatRows,
  forEachBlock,
} from "./rows.ts";
import { bytesPerValue } from "./rows.ts";

/** The tolerance of the near search. */
export type NearTolerance = { ulps: number } | { cosine: number };

/** A cluster of near-identical rows. */
export interface NearCluster {
  /** Rows in the cluster. */
  population: number;
  /** Token ids, ascending. */
  tokens: number[];
}

/** What {@linkcode findNearRows} found. */
export interface NearReport {
  /** The tolerance used. */
  tolerance: NearTolerance;
  /** Clusters holding at least two different vectors. */
  C: number;
  /** Rows in those clusters. */
  P: number;
  /** Clusters, largest first (ties: smallest token id first). */
  clusters: NearCluster[];
  /** Key columns the rows were split on. */
  keyColumns: number[];
  /** Row pairs checked on their full rows. */
  pairsChecked: number;
}

/** Options of {@linkcode findNearRows}. */
interface NearOptions {
  /** Rows left out (e.g. those holding NaN or Inf). */
  exclude?: readonly number[];
  /** Key columns to split on (default 16, at most the width). */
  keys?: number;
  /** Cells this small are compared pair by pair (default 32). */
  leaf?: number;
  /**
   * Groups of rows known to be bit-identical (the exact clusters): only the
   * first of each is searched, and the others join whatever it joins.
   */
  identical?: readonly (readonly number[])[];
  /** Most values compared before giving up (default 3e8). */
  budget?: number;
}

/** Checks a tolerance; throws a one-line CensusError naming the flag. */
export function checkTolerance(t: NearTolerance): void {
  if ("ulps" in t) {
    if (!Number.isSafeInteger(t.ulps) || t.ulps < 1 || t.ulps > 2 ** 30) {
      throw new CensusError(
        "bad-option",
        `--near must be a whole number of ulps from 1 to 2^30, got ${t.ulps}`,
      );
    }
  } else if (!(t.cosine > 0 && t.cosine < 1)) {
    throw new CensusError(
      "bad-option",
      `--cosine must be a number between 0 and 1 (exclusive), got ${t.cosine}`,
    );
  }
}

/** The tolerance in words, e.g. "within 2 ulps". */
export function toleranceText(t: NearTolerance): string {
  return "ulps" in t
    ? `within ${t.ulps} ulp${t.ulps === 1 ? "" : "s"} per component`
    : `cosine similarity >= ${t.cosine}`;
}

class UnionFind {
  readonly parent: Int32Array;
  /** Per root: whether the group holds two different vectors. */
  readonly distinct: Uint8Array;
  constructor(n: number) {
    this.parent = new Int32Array(n).map((_, i) => i);
    this.distinct = new Uint8Array(n);
  }
  find(a: number): number {
    const p = this.parent;
    while (p[a] !== a) a = p[a] = p[p[a]];
    return a;
  }
  union(a: number, b: number, distinct: boolean): void {
    const ra = this.find(a);
    const rb = this.find(b);
    const lo = Math.min(ra, rb);
    const hi = Math.max(ra, rb);
    this.parent[hi] = lo;
    if (distinct || this.distinct[hi]) this.distinct[lo] = 1;
  }
}

/**
 * Rows in key space: the transform of every included row at the key
 * columns, and a reader of transformed full rows for the final check.
 */
interface KeySpace {
  rows: Int32Array;
  keys: Float64Array;
  keyColumns: number[];
  /** Per-component tolerance in key space (with slack for cosine). */
  tol: number;
  fullRow(r: number): Float64Array;
  near(a: Float64Array, b: Float64Array): { near: boolean; same: boolean };
}

function buildKeySpace(
  m: FloatRows,
  t: NearTolerance,
  options: NearOptions,
): KeySpace {
  const { rows: n, cols: d } = m;
  const ulps = "ulps" in t;
  const excluded = new Uint8Array(n);
  for (const r of options.exclude ?? []) excluded[r] = 1;
  for (const group of options.identical ?? []) {
    for (const r of group.slice(1)) excluded[r] = 1;
  }
  const norms = new Float64Array(n);
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d);
  forEachBlock(m, (start, count, v) => {
    for (let i = 0; i < count; i++) {
      const r = start + i;
      if (excluded[r]) continue;
      let s = 0;
      for (let j = i * d; j < (i + 1) * d; j++) s += v[j] * v[j];
      norms[r] = Math.sqrt(s);
      // A zero row has no direction: no cosine with anything.
      if (!ulps && norms[r] === 0) excluded[r] = 1;
    }
  });
  const transform = (v: Float64Array, base: number, r: number, j: number) =>
    ulps ? v[base + j] : v[base + j] / norms[r];
  forEachBlock(m, (start, count, v) => {
    for (let i = 0; i < count; i++) {
      if (excluded[start + i]) continue;
      for (let j = 0; j < d; j++) {
        const x = transform(v, i * d, start + i, j);
        sum[j] += x;
        sumSq[j] += x * x;
      }
    }
  }, { ordinals: ulps });
  const rows = Int32Array.from(
    Array.from({ length: n }, (_, r) => r).filter((r) => !excluded[r]),
  );
  const variance = Array.from({ length: d }, (_, j) => {
    const mean = sum[j] / Math.max(1, rows.length);
    return sumSq[j] / Math.max(1, rows.length) - mean * mean;
  });
  const mk = Math.min(d, options.keys ?? 16);
  const keyColumns = Array.from({ length: d }, (_, j) => j)
    .sort((a, b) => variance[b] - variance[a] || a - b).slice(0, mk);
  const keys = new Float64Array(n * mk);
  forEachBlock(m, (start, count, v) => {
    for (let i = 0; i < count; i++) {
      if (excluded[start + i]) continue;
      for (let k = 0; k < mk; k++) {
        keys[(start + i) * mk + k] = transform(
          v,
          i * d,
          start + i,
          keyColumns[k],
        );
      }
    }
  }, { ordinals: ulps });
  const rowBuf = new Uint8Array(d * bytesPerValue(m.dtype));
  const fullRow = (r: number) => {
    const out = new Float64Array(d);
    const bytes = m.readRowsSync(r, 1, rowBuf);
    if (ulps) decodeOrdinals(bytes, m.dtype, out);
    else {
      decodeValues(bytes, m.dtype, out);
      for (let j = 0; j < d; j++) out[j] /= norms[r];
    }
    return out;
  };
  const near = ulps
    ? (a: Float64Array, b: Float64Array) => {
      let max = 0;
      for (let j = 0; j < d && max <= t.ulps; j++) {
        max = Math.max(max, Math.abs(a[j] - b[j]));
      }
      return { near: max <= t.ulps, same: max === 0 };
    }
    : (a: Float64Array, b: Float64Array) => {
      let dot = 0;
      let same = true;
      for (let j = 0; j < d; j++) {
        dot += a[j] * b[j];
        if (a[j] !== b[j]) same = false;
      }
      return { near: dot >= (t as { cosine: number }).cosine, same };
    };
  // Unit rows with cosine >= T differ by at most sqrt(2 - 2T) in every
  // component; the slack keeps float rounding from losing a pair.
  const tol = ulps
    ? t.ulps
    : Math.sqrt(2 - 2 * (t as { cosine: number }).cosine) * (1 + 1e-9) + 1e-12;
  return { rows, keys, keyColumns, tol, fullRow, near };
}

/**
 * Finds clusters of near-identical rows, exactly (see the module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findNearRows } from "./near_rows.ts";
 * // Rows 0 and 2 differ by one ulp of float32 in one component.
 * const data = new Float32Array([1, 2, 5, 7, 1, 2]);
 * new Uint32Array(data.buffer)[5] += 1;
 * const bytes = new Uint8Array(data.buffer);
 * const r = findNearRows({
 *   rows: 3, cols: 2, dtype: "F32",
 *   readRowsSync: (s, c, into) => (into.set(bytes.subarray(s * 8, (s + c) * 8)), into),
 * }, { ulps: 1 });
 * assert.deepEqual(r.clusters, [{ population: 2, tokens: [0, 2] }]);
 * ```
 */
export function findNearRows(
  m: FloatRows,
  tolerance: NearTolerance,
  options: NearOptions = {},
): NearReport {
  checkTolerance(tolerance);
  if ("ulps" in tolerance && m.dtype === "F64") {
    throw new CensusError(
      "bad-option",
      "--near counts ulps of BF16, F16 or F32 rows; this tensor is F64 (use --cosine)",
    );
  }
  const space = buildKeySpace(m, tolerance, options);
  const uf = new UnionFind(m.rows);
  const budget = options.budget ?? 3e8;
  const leaf = options.leaf ?? 32;
  const mk = space.keyColumns.length;
  const width = 16 * space.tol;
  let work = 0;
  let pairsChecked = 0;
  const cache = new Map<number, Float64Array>();
  const row = (r: number) => {
    let v = cache.get(r);
    if (v === undefined) {
      if (cache.size >= 4096) cache.clear();
      v = space.fullRow(r);
      cache.set(r, v);
    }
    return v;
  };
  const tooLoose = () =>
    new CensusError(
      "bad-option",
      `the near-identical search ${
        toleranceText(tolerance)
      } would compare more than ${budget} values: too loose for this matrix; tighten it`,
    );
  const compareAll = (idx: ArrayLike<number>) => {
    // Pairs of a cell, counted before any is compared, to fail fast.
    if (work + idx.length * (idx.length - 1) / 2 * mk > budget) {
      throw tooLoose();
    }
    for (let i = 0; i < idx.length; i++) {
      const a = idx[i];
      for (let j = i + 1; j < idx.length; j++) {
        const b = idx[j];
        if (uf.find(a) === uf.find(b)) continue;
        work += mk;
        let k = 0;
        while (
          k < mk &&
          Math.abs(space.keys[a * mk + k] - space.keys[b * mk + k]) <= space.tol
        ) k++;
        if (k < mk) continue;
        work += m.cols;
        pairsChecked++;
        if (work > budget) throw tooLoose();
        const verdict = space.near(row(a), row(b));
        if (verdict.near) uf.union(a, b, !verdict.same);
      }
    }
  };
  const stack: Array<{ idx: ArrayLike<number>; depth: number }> = [{
    idx: space.rows,
    depth: 0,
  }];
  while (stack.length > 0) {
    const { idx, depth } = stack.pop()!;
    if (idx.length < 2) continue;
    if (idx.length <= leaf || depth === mk) {
      compareAll(idx);
      continue;
    }
    const cells = new Map<number, number[]>();
    const put = (cell: number, r: number) => {
      const list = cells.get(cell);
      if (list === undefined) cells.set(cell, [r]);
      else list.push(r);
    };
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      const v = space.keys[r * mk + depth];
      // Cells centred on 0, so that zeros sit mid-cell rather than on an edge.
      const cell = Math.floor(v / width + 0.5);
      const fromLow = v - (cell - 0.5) * width;
      put(cell, r);
      // Of a near pair in adjacent cells, the lower row is within one
      // tolerance of the upper edge of its cell: a copy there meets the other.
      if (width - fromLow <= space.tol) put(cell + 1, r);
    }
    work += idx.length;
    for (const list of cells.values()) {
      stack.push({ idx: list, depth: depth + 1 });
    }
  }
  const groups = new Map<number, number[]>();
  const add = (root: number, r: number) => {
    const list = groups.get(root);
    if (list === undefined) groups.set(root, [r]);
    else list.push(r);
  };
  for (const r of space.rows) add(uf.find(r), r);
  for (const group of options.identical ?? []) {
    const root = uf.find(group[0]);
    for (const r of group.slice(1)) add(root, r);
  }
  for (const list of groups.values()) list.sort((a, b) => a - b);
  const clusters = [...groups.entries()]
    .filter(([root, list]) => list.length >= 2 && uf.distinct[root] === 1)
    .map(([, tokens]) => ({ population: tokens.length, tokens }))
    .sort((a, b) => b.population - a.population || a.tokens[0] - b.tokens[0]);
  return {
    tolerance,
    C: clusters.length,
    P: clusters.reduce((s, c) => s + c.population, 0),
    clusters,
    keyColumns: space.keyColumns,
    pairsChecked,
  };
}
