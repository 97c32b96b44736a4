/**
 * Reading a file that may not be there: many readers (a cached record, a
 * checkpoint, a lock, a hub cache entry) take absence as an answer, not an
 * error, while every other failure (permission, I/O, a folder at the path)
 * must still be thrown.
 *
 * @module
 */

/**
 * The bytes of the file at `path`, or null when nothing is there; any other
 * error is thrown, not taken as absence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFileOrNull } from "./read_or_null.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeFile(path, new Uint8Array([7, 8]));
 *   assert.deepEqual(await readFileOrNull(path), new Uint8Array([7, 8]));
 *   assert.equal(await readFileOrNull(`${path}.absent`), null);
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export function readFileOrNull(
  path: string | URL,
): Promise<Uint8Array | null> {
  return nullWhenAbsent(() => Deno.readFile(path));
}

/**
 * The text (UTF-8) of the file at `path`, or null when nothing is there; any
 * other error is thrown, not taken as absence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTextFileOrNull } from "./read_or_null.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeTextFile(path, "hello");
 *   assert.equal(await readTextFileOrNull(path), "hello");
 *   assert.equal(await readTextFileOrNull(`${path}.absent`), null);
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export function readTextFileOrNull(
  path: string | URL,
): Promise<string | null> {
  return nullWhenAbsent(() => Deno.readTextFile(path));
}

async function nullWhenAbsent<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
