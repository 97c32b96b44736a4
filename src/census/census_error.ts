/**
 * The error type of the census.
 *
 * @module
 */

import { CodedError } from "../errors/coded_error.ts";

/** What kind of problem stopped a census. */
export type CensusErrorCode =
  | "not-found"
  | "no-weights"
  | "bad-index"
  | "missing-shard"
  | "no-embedding"
  | "unknown-tensor"
  | "unsupported-dtype"
  | "bad-tensor"
  | "bad-option"
  | "io";

/**
 * A census cannot run as asked: the path, an index or a tensor is not what
 * the census needs. The message is meant for the person running it.
 *
 * @example
 * ```ts
 * import { CensusError } from "./census_error.ts";
 * const e = new CensusError("not-found", "no such file or folder: x");
 * e.code; // "not-found"
 * ```
 */
export class CensusError extends CodedError<CensusErrorCode> {}
