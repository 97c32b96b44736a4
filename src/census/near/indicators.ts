/**
 * Under-trained-token indicators in the manner of "Fishing for Magikarp"
 * (Land & Bartolo, EMNLP 2024): rows that training barely touched keep a
 * small norm, and sit near the rows known to be unused.
 *
 * Per row: its L2 norm, as a z-score and a percentile of all (finite)
 * rows; and, given known-unused rows (the exact black-hole members, token
 * ids or a token pattern), the L2 distance to their mean vector
 * (Magikarp's main indicator) and the cosine distance to it after the
 * matrix's first principal component is removed (Magikarp's unembedding
 * indicator; the component, found by power iteration on the centred rows,
 * is a direction every row shares and would otherwise dominate cosines).
 * Low values of each mean "looks under-trained".
 *
 * @module
 */

import { type FloatRows, forEachBlock } from "./rows.ts";

/** One row of an indicator table. */
export interface IndicatorRow {
  /** Token id (row). */
  token: number;
  /** L2 norm of the row. */
  norm: number;
  /** `(norm - mean) / std` over the finite rows. */
  z: number;
  /** Percent of finite rows whose norm is at most this one. */
  percentile: number;
  /** L2 distance to the mean of the known-unused rows (absent without them). */
  unusedL2?: number;
  /** Cosine distance to that mean, first principal component removed. */
  unusedCosine?: number;
  /** Whether the row is one of the known-unused rows. */
  knownUnused: boolean;
}

/** The indicators of one tensor. */
export interface Indicators {
  /** Rows per table. */
  top: number;
  /** Norms over the finite rows. */
  norm: { mean: number; std: number };
  /** Known-unused rows: how many, and where they came from. */
  knownUnused: { rows: number; sources: string[] };
  /** Lowest norms first. */
  byNorm: IndicatorRow[];
  /**
   * Nearest (L2) to the known-unused mean first, the known-unused rows
   * themselves left out; `null` without known-unused rows.
   */
  byUnusedDistance: IndicatorRow[] | null;
}

/** Options of {@linkcode computeIndicators}. */
interface IndicatorOptions {
  /** Rows known to be unused. */
  knownUnused?: readonly number[];
  /** Where `knownUnused` came from, in words (for the report). */
  sources?: string[];
  /** Rows left out (NaN or Inf). */
  exclude?: readonly number[];
  /** Rows per table (default 20). */
  top?: number;
}

/**
 * First principal component of the rows where `keep`, by power iteration
 * (deterministic start; at most 20 passes over the matrix: where 20 do
 * not settle it, the top two components are nearly tied and "the" first one
 * means little).
 */
function firstComponent(
  m: FloatRows,
  keep: Uint8Array,
  mean: Float64Array,
): Float64Array {
  const d = m.cols;
  let v = Float64Array.from({ length: d }, (_, j) => Math.sin(j + 1) + 0.5);
  normalize(v);
  const centred = new Float64Array(d);
  for (let iter = 0; iter < 20; iter++) {
    const w = new Float64Array(d);
    forEachBlock(m, (start, count, x) => {
      for (let i = 0; i < count; i++) {
        if (!keep[start + i]) continue;
        let y = 0;
        for (let j = 0; j < d; j++) {
          centred[j] = x[i * d + j] - mean[j];
          y += centred[j] * v[j];
        }
        for (let j = 0; j < d; j++) w[j] += y * centred[j];
      }
    });
    if (normalize(w) === 0) return v;
    const agree = Math.abs(dot(w, v));
    v = w;
    if (1 - agree < 1e-10) break;
  }
  return v;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

function normalize(v: Float64Array): number {
  const n = Math.sqrt(dot(v, v));
  if (n > 0) { for (let j = 0; j < v.length; j++) v[j] /= n; }
  return n;
}

/**
 * Computes the indicators of a float matrix (a few streamed passes; with
 * known-unused rows, up to 20 more for the principal component).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeIndicators } from "./indicators.ts";
 * // Row 2 is small, like a row training never moved.
 * const data = new Float32Array([3, 4, -4, 3, 0.1, 0, 5, 0]);
 * const bytes = new Uint8Array(data.buffer);
 * const ind = computeIndicators({
 *   rows: 4, cols: 2, dtype: "F32",
 *   readRowsSync: (s, c, into) => (into.set(bytes.subarray(s * 8, (s + c) * 8)), into),
 * }, { top: 2 });
 * assert.deepEqual(ind.byNorm.map((r) => r.token), [2, 0]);
 * ```
 */
export function computeIndicators(
  m: FloatRows,
  options: IndicatorOptions = {},
): Indicators {
  const { rows: n, cols: d } = m;
  const top = options.top ?? 20;
  const keep = new Uint8Array(n).fill(1);
  for (const r of options.exclude ?? []) keep[r] = 0;
  const unused = new Uint8Array(n);
  for (const r of options.knownUnused ?? []) if (keep[r]) unused[r] = 1;
  const norms = new Float64Array(n);
  const mean = new Float64Array(d);
  const unusedMean = new Float64Array(d);
  let kept = 0;
  let unusedRows = 0;
  forEachBlock(m, (start, count, x) => {
    for (let i = 0; i < count; i++) {
      const r = start + i;
      if (!keep[r]) continue;
      kept++;
      if (unused[r]) unusedRows++;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        s += v * v;
        mean[j] += v;
        if (unused[r]) unusedMean[j] += v;
      }
      norms[r] = Math.sqrt(s);
    }
  });
  const rows = Array.from({ length: n }, (_, r) => r).filter((r) => keep[r]);
  for (let j = 0; j < d; j++) {
    mean[j] /= Math.max(1, kept);
    unusedMean[j] /= Math.max(1, unusedRows);
  }
  const normMean = rows.reduce((s, r) => s + norms[r], 0) / Math.max(1, kept);
  const normStd = Math.sqrt(
    rows.reduce((s, r) => s + (norms[r] - normMean) ** 2, 0) /
      Math.max(1, kept),
  );
  const sorted = rows.map((r) => norms[r]).sort((a, b) => a - b);
  const atMost = (x: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let l2: Float64Array | null = null;
  let cosine: Float64Array | null = null;
  if (unusedRows > 0) {
    [l2, cosine] = unusedDistances(m, keep, mean, unusedMean);
  }
  const entry = (r: number): IndicatorRow => ({
    token: r,
    norm: norms[r],
    z: normStd > 0 ? (norms[r] - normMean) / normStd : 0,
    percentile: 100 * atMost(norms[r]) / Math.max(1, kept),
    ...(l2 === null ? {} : { unusedL2: l2[r], unusedCosine: cosine![r] }),
    knownUnused: unused[r] === 1,
  });
  const byNorm = [...rows].sort((a, b) => norms[a] - norms[b] || a - b)
    .slice(0, top).map(entry);
  const byUnusedDistance = l2 === null ? null : rows
    .filter((r) => !unused[r])
    .sort((a, b) => l2![a] - l2![b] || a - b)
    .slice(0, top).map(entry);
  return {
    top,
    norm: { mean: normMean, std: normStd },
    knownUnused: { rows: unusedRows, sources: options.sources ?? [] },
    byNorm,
    byUnusedDistance,
  };
}

/** Per row: L2 distance to `u`, and cosine distance to it without the first component. */
function unusedDistances(
  m: FloatRows,
  keep: Uint8Array,
  mean: Float64Array,
  u: Float64Array,
): [Float64Array, Float64Array] {
  const d = m.cols;
  const c = firstComponent(m, keep, mean);
  const uc = dot(u, c);
  const uOff = u.map((v, j) => v - uc * c[j]);
  const uNorm = Math.sqrt(dot(uOff, uOff));
  const l2 = new Float64Array(m.rows);
  const cosine = new Float64Array(m.rows);
  forEachBlock(m, (start, count, x) => {
    for (let i = 0; i < count; i++) {
      const r = start + i;
      if (!keep[r]) continue;
      let xc = 0;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        xc += v * c[j];
        s += (v - u[j]) ** 2;
      }
      l2[r] = Math.sqrt(s);
      let xu = 0;
      let xx = 0;
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j] - xc * c[j];
        xu += v * uOff[j];
        xx += v * v;
      }
      const denominator = Math.sqrt(xx) * uNorm;
      cosine[r] = denominator > 0 ? 1 - xu / denominator : 1;
    }
  });
  return [l2, cosine];
}
