/**
 * The base of errors that carry a machine-readable `code` beside their
 * message for people (CorpusError, CensusError, SafetensorsError): callers
 * branch on `code` and never parse messages. It imports nothing, so every
 * package, from src/data up, can extend it without an import cycle.
 *
 * @module
 */

/**
 * An error with a `code` from a closed set of strings; its `name` is the
 * subclass's name (`CorpusError`, ...), as stack traces and `String(error)`
 * show it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CodedError } from "./coded_error.ts";
 *
 * class ParseError extends CodedError<"empty" | "too-long"> {}
 * const e = new ParseError("empty", "nothing to parse");
 * assert.equal(e.code, "empty");
 * assert.equal(String(e), "ParseError: nothing to parse");
 * ```
 */
export class CodedError<Code extends string> extends Error {
  /** Machine-readable reason. */
  readonly code: Code;

  /** Builds the error; `code` is also readable as `error.code`. */
  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
