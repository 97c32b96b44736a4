/**
 * What the black-hole finders take and return.
 *
 * Definitions (as in the seed notebooks): `C` is the number of distinct row
 * vectors held by at least two rows; `P` is the number of rows in those
 * clusters. Rows are compared in their stored encoding, byte for byte.
 *
 * @module
 */

import type { HashEngine } from "./row_key/hasher.ts";
import type { FloatDtype } from "./row_key/non_finite.ts";
import type { RowHash } from "./row_key/row_hash.ts";

/** One black hole: a row vector shared by several token rows. */
export interface BlackHoleCluster {
  /** Number of rows holding this vector (at least 2). */
  population: number;
  /** The rows (token ids), ascending. */
  tokens: number[];
}

/** C, P and the clusters of one matrix. */
export interface BlackHoleReport {
  /** Number of rows examined. */
  rows: number;
  /**
   * Number of distinct row vectors (clusters and singletons) among the
   * finite rows: `rows - nonFinite.length - P + C`.
   */
  distinct: number;
  /** Number of clusters: distinct vectors shared by at least 2 rows. */
  C: number;
  /** Number of rows in clusters. */
  P: number;
  /**
   * The clusters, by population descending, then by smallest token id
   * ascending.
   */
  clusters: BlackHoleCluster[];
  /**
   * Rows (token ids), ascending, holding at least one NaN or ±Inf. They are
   * in no cluster and count towards neither `C`, `P` nor `distinct`. Always
   * empty when no `dtype` was given (rows are then opaque bytes).
   */
  nonFinite: number[];
}

/** A row-major matrix given as its stored bytes. */
export interface RowMatrix {
  /** `rows * rowBytes` bytes. */
  bytes: Uint8Array;
  /** Number of rows. */
  rows: number;
  /** Bytes per row (columns times element size). */
  rowBytes: number;
}

/** Options shared by the black-hole finders. */
export interface BlackHoleOptions {
  /**
   * Custom row hash, e.g. a deliberately weak one in tests. Default:
   * `hashRowBytes` (row_key/row_hash.ts).
   */
  hash?: RowHash;
  /**
   * `"auto"` (default): the WebAssembly kernel when rows are a multiple of
   * 64 bytes, no custom `hash` is given and the matrix has at least 1 MiB,
   * else JavaScript. `"wasm"` throws where the kernel cannot be used.
   */
  engine?: HashEngine;
  /**
   * The element format of the rows. When given, rows holding any NaN or
   * ±Inf are excluded from the clusters and listed in
   * {@linkcode BlackHoleReport.nonFinite}; rows must hold whole elements.
   * Without it rows are compared as opaque bytes and nothing is excluded.
   */
  dtype?: FloatDtype;
}
