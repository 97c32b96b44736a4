/**
 * The near-identical and indicator parts of a tensor's census, with token
 * strings attached: what `census.ts` adds beside the exact clusters when
 * asked (`--near`, `--cosine`, `--indicators`).
 *
 * @module
 */

import type { TokenTable } from "../tokenizer.ts";
import { CensusError } from "../census_error.ts";
import {
  computeIndicators,
  type IndicatorRow,
  type Indicators,
} from "./indicators.ts";
import {
  findNearRows,
  type NearCluster,
  type NearReport,
  type NearTolerance,
} from "./near_rows.ts";
import type { FloatRows } from "./rows.ts";

/** What the indicators are asked for. */
export interface IndicatorRequest {
  /** Rows per table (default 20). */
  top?: number;
  /** Token ids known to be unused (`--unused`). */
  unusedIds?: readonly number[];
  /** Token strings known to be unused (`--unused-pattern`). */
  unusedPattern?: RegExp;
}

/** A near-identical cluster with its token strings. */
export interface NearCensusCluster extends NearCluster {
  /** Token strings (`null`: id not named); absent without tokenizer. */
  labels?: (string | null)[];
}

/** The near-identical part of a tensor's census. */
export interface NearCensus extends Omit<NearReport, "clusters"> {
  /** Clusters with token strings. */
  clusters: NearCensusCluster[];
  /** Seconds spent. */
  seconds: number;
}

/** An indicator row with its token string. */
export interface IndicatorCensusRow extends IndicatorRow {
  /** Token string (`null`: id not named); absent without tokenizer. */
  label?: string | null;
}

/** The indicator part of a tensor's census. */
export interface IndicatorCensus
  extends Omit<Indicators, "byNorm" | "byUnusedDistance"> {
  /** Lowest norms first. */
  byNorm: IndicatorCensusRow[];
  /** Nearest to the known-unused mean first; `null` without known-unused rows. */
  byUnusedDistance: IndicatorCensusRow[] | null;
  /** Seconds spent. */
  seconds: number;
}

/** Parses `--unused` ("3,4,10-12"); throws a one-line CensusError. */
export function parseTokenIds(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const lo = m === null ? NaN : Number(m[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) {
      throw new CensusError(
        "bad-option",
        `--unused takes token ids and ranges like 3,4,10-12; got "${part}"`,
      );
    }
    if (hi - lo > 10_000_000) {
      throw new CensusError("bad-option", `--unused range ${part} is too long`);
    }
    for (let id = lo; id <= hi; id++) ids.push(id);
  }
  return ids;
}

/** Known-unused rows of a tensor, and where they came from. */
function knownUnused(
  rows: number,
  exactMembers: readonly number[],
  tokens: TokenTable | null,
  request: IndicatorRequest,
): { ids: number[]; sources: string[] } {
  const ids = new Set<number>();
  const sources: string[] = [];
  if (exactMembers.length > 0) {
    exactMembers.forEach((r) => ids.add(r));
    sources.push(`${exactMembers.length} exact black-hole rows`);
  }
  if (request.unusedIds !== undefined) {
    const inRange = request.unusedIds.filter((r) => r < rows);
    inRange.forEach((r) => ids.add(r));
    sources.push(`${inRange.length} ids from --unused`);
  }
  if (request.unusedPattern !== undefined) {
    let matched = 0;
    for (let r = 0; r < rows && tokens !== null; r++) {
      const label = tokens.label(r);
      if (label !== null && request.unusedPattern.test(label)) {
        ids.add(r);
        matched++;
      }
    }
    sources.push(
      `${matched} tokens matching --unused-pattern ${request.unusedPattern}`,
    );
  }
  return { ids: [...ids].sort((a, b) => a - b), sources };
}

/**
 * The near-identical clusters of `m`, labelled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nearCensus } from "./extras.ts";
 * const bytes = new Uint8Array(new Float32Array([1, 1, 1]).buffer);
 * bytes[4] ^= 1; // row 1 is one ulp above row 0
 * const near = nearCensus({
 *   rows: 3, cols: 1, dtype: "F32",
 *   readRowsSync: (s, c, into) => (into.set(bytes.subarray(s * 4, (s + c) * 4)), into),
 * }, { ulps: 1 }, { exclude: [], tokens: null });
 * assert.deepEqual(near.clusters[0].tokens, [0, 1, 2]);
 * ```
 */
export function nearCensus(
  m: FloatRows,
  tolerance: NearTolerance,
  context: {
    exclude: readonly number[];
    tokens: TokenTable | null;
    identical?: readonly (readonly number[])[];
  },
): NearCensus {
  const t0 = performance.now();
  const report = findNearRows(m, tolerance, {
    exclude: context.exclude,
    identical: context.identical,
  });
  const { tokens } = context;
  return {
    ...report,
    clusters: report.clusters.map((c) =>
      tokens === null
        ? c
        : { ...c, labels: c.tokens.map((id) => tokens.label(id)) }
    ),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The indicators of `m`, labelled (see {@linkcode computeIndicators}). */
export function indicatorCensus(
  m: FloatRows,
  request: IndicatorRequest,
  context: {
    exclude: readonly number[];
    exactMembers: readonly number[];
    tokens: TokenTable | null;
  },
): IndicatorCensus {
  const t0 = performance.now();
  const { tokens } = context;
  const unused = knownUnused(m.rows, context.exactMembers, tokens, request);
  const ind = computeIndicators(m, {
    knownUnused: unused.ids,
    sources: unused.sources,
    exclude: context.exclude,
    top: request.top,
  });
  const label = (r: IndicatorRow): IndicatorCensusRow =>
    tokens === null ? r : { ...r, label: tokens.label(r.token) };
  return {
    ...ind,
    byNorm: ind.byNorm.map(label),
    byUnusedDistance: ind.byUnusedDistance?.map(label) ?? null,
    seconds: (performance.now() - t0) / 1000,
  };
}
