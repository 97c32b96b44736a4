/**
 * Size and SHA-256 of a file, read as a stream so that a history of hundreds
 * of megabytes is never held in memory.
 *
 * @module
 */

import { createHash } from "node:crypto";

/**
 * Size in bytes and lower-case hex SHA-256 of the file at `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileDigest } from "./file_digest.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeTextFile(path, "abc");
 *   assert.deepEqual(await fileDigest(path), {
 *     bytes: 3,
 *     sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 *   });
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function fileDigest(
  path: string,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}
