/**
 * An error as one line, for the `error: ...` and `stopped: ...` lines that
 * CLIs, workers and the pool print: a multi-line message (a subprocess's
 * stderr, a wrapped cause) would otherwise split one event over several log
 * lines and break tools that read them line by line.
 *
 * @module
 */

/**
 * The message of `error` (an Error's, or the `message` of an error-like
 * object; otherwise the value as a string) with every line break and the
 * whitespace around it collapsed to a single space.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneLine } from "./one_line.ts";
 *
 * assert.equal(oneLine(new Error("failed:\n  exit 1\n")), "failed: exit 1 ");
 * assert.equal(oneLine("a\r\nb"), "a b");
 * ```
 */
export function oneLine(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  const text = typeof message === "string" ? message : String(error);
  return text.replace(/\s*\n\s*/g, " ");
}
