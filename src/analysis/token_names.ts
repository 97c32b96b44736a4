/**
 * Names for byte tokens (horizon's models read bytes: token id = byte
 * value), as the reports print them.
 *
 * @module
 */

const NAMED_BYTES: Record<number, string> = {
  0x09: "\\t",
  0x0a: "\\n",
  0x0d: "\\r",
  0x7f: "DEL",
};

/**
 * A printable label for a byte token (0..255): printable ASCII quoted
 * (`'a'`, `' '`, `'\''`), tab/newline/carriage return as `\t` `\n` `\r`,
 * 127 as `DEL`, anything else as `\xNN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeToken } from "./token_names.ts";
 * assert.equal(describeToken(97), "'a'");
 * assert.equal(describeToken(10), "\\n");
 * assert.equal(describeToken(0), "\\x00");
 * ```
 */
export function describeToken(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id > 255) {
    throw new RangeError(`describeToken: ${id} is not a byte token (0..255)`);
  }
  if (id in NAMED_BYTES) return NAMED_BYTES[id];
  if (id >= 0x20 && id < 0x7f) {
    const ch = String.fromCharCode(id);
    return ch === "'" || ch === "\\" ? `'\\${ch}'` : `'${ch}'`;
  }
  return `\\x${id.toString(16).padStart(2, "0")}`;
}
