/**
 * The error type of the black-hole finders.
 *
 * @module
 */

/**
 * Arguments that do not describe a matrix, or options that do not fit it
 * (rows that hold no whole elements of the given dtype, a custom hash that
 * returns something other than a key, ...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlackHoleError } from "./black_hole_error.ts";
 * const e = new BlackHoleError("matrix of 2 rows x 2 bytes needs 4 bytes");
 * assert.equal(e.name, "BlackHoleError");
 * ```
 */
export class BlackHoleError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "BlackHoleError";
  }
}
