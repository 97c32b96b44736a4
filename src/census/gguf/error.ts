/**
 * The error type of the GGUF reader.
 *
 * @module
 */

import { CodedError } from "../../errors/coded_error.ts";

/** What is wrong with a GGUF file. */
export type GgufErrorCode =
  | "bad-magic"
  | "bad-version"
  | "truncated"
  | "bad-metadata"
  | "bad-alignment"
  | "unknown-type"
  | "bad-tensor"
  | "past-end"
  | "ambiguous"
  | "io";

/**
 * A GGUF file cannot be read: its message is one line, `<path>: <problem>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GgufError } from "./error.ts";
 * const e = new GgufError("bad-magic", "m.gguf", "not a GGUF file");
 * assert.equal(e.message, "m.gguf: not a GGUF file");
 * assert.equal(e.code, "bad-magic");
 * ```
 */
export class GgufError extends CodedError<GgufErrorCode> {
  /** The file. */
  readonly path: string;

  /** Builds the error; the message is `${path}: ${problem}`. */
  constructor(code: GgufErrorCode, path: string, problem: string) {
    super(code, `${path}: ${problem}`);
    this.path = path;
  }
}
