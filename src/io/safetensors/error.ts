/**
 * The one error type of the safetensors modules, and how file-system errors
 * are put into its messages.
 *
 * @module
 */

import { CodedError } from "../../errors/coded_error.ts";

/** What is wrong with a safetensors file or a write request. */
export type SafetensorsErrorCode =
  | "io"
  | "truncated"
  | "header-too-large"
  | "invalid-header"
  | "invalid-tensor"
  | "invalid-offsets"
  | "unknown-tensor"
  | "out-of-range"
  | "invalid-argument"
  | "writer-state";

/**
 * A safetensors file cannot be read or written as asked. The message names
 * the file and the problem; `code` says it for programs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSafetensors } from "./buffer.ts";
 * import { SafetensorsError } from "./error.ts";
 * assert.throws(
 *   () => parseSafetensors(new Uint8Array(3)),
 *   (e) => e instanceof SafetensorsError && e.code === "truncated",
 * );
 * ```
 */
export class SafetensorsError extends CodedError<SafetensorsErrorCode> {
  /** The file concerned (`"<buffer>"` for in-memory data). */
  readonly path: string;

  /** Builds the error; the message is prefixed with `path`. */
  constructor(code: SafetensorsErrorCode, path: string, message: string) {
    super(code, `${path}: ${message}`);
    this.path = path;
  }
}

/**
 * A file-system error in a few words. Both kinds occur: `Deno.*` calls throw
 * `Deno.errors.*`, `node:fs` calls (the positioned reads) errors with a
 * POSIX `code`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ioReason } from "./error.ts";
 * assert.equal(ioReason(new Deno.errors.NotFound("x")), "no such file");
 * assert.equal(ioReason(Object.assign(new Error("x"), { code: "EACCES" })), "permission denied");
 * ```
 */
export function ioReason(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof Deno.errors.NotFound || code === "ENOENT") {
    return "no such file";
  }
  if (e instanceof Deno.errors.PermissionDenied || code === "EACCES") {
    return "permission denied";
  }
  if (e instanceof Deno.errors.IsADirectory || code === "EISDIR") {
    return "is a directory";
  }
  return e instanceof Error ? e.message : String(e);
}
