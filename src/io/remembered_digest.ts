/**
 * A file's SHA-256, remembered while the file is unchanged: one process may
 * ask for the digest of the same large file more than once (a cached run's
 * embedding history is checked before the run lock is taken and again under
 * it), and hashing hundreds of megabytes twice buys nothing.
 *
 * "Unchanged" is judged the way git judges its index: by the file's size,
 * modification and change times, inode and device. A file modified within
 * {@linkcode RACY_MS} of being hashed is not remembered, since a write in
 * the same clock tick would leave those facts as they were.
 *
 * @module
 */

import { resolve } from "node:path";
import { fileDigest } from "./file_digest.ts";

/** Size and SHA-256 of a file, as {@linkcode fileDigest} gives them. */
export type Digest = { bytes: number; sha256: string };

/** How recently modified a file may be and still be remembered (ms). */
export const RACY_MS = 1000;

/** What a remembering digest is built from (tests pass their own). */
export interface RememberingOptions {
  /** Hashes a file (default {@linkcode fileDigest}). */
  readonly digest?: (path: string) => Promise<Digest>;
  /** The current time in ms (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * A {@linkcode fileDigest} that hashes a file again only when it has changed
 * since this function last hashed it (or was then too freshly written to
 * tell).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileDigest } from "./file_digest.ts";
 * import { rememberingDigest } from "./remembered_digest.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeTextFile(path, "abc");
 *   await Deno.utime(path, 0, 0); // long unchanged
 *   let hashed = 0;
 *   const digest = rememberingDigest({
 *     digest: (p) => (hashed++, fileDigest(p)),
 *   });
 *   const first = await digest(path);
 *   assert.deepEqual(await digest(path), first);
 *   assert.equal(hashed, 1);
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export function rememberingDigest(
  options: RememberingOptions = {},
): (path: string) => Promise<Digest> {
  const { digest = fileDigest, now = Date.now } = options;
  const known = new Map<string, { stamp: string; digest: Digest }>();
  return async (path) => {
    const where = resolve(path);
    const started = now();
    const stat = await Deno.stat(where);
    const stamp = [
      stat.size,
      stat.mtime?.getTime(),
      stat.ctime?.getTime(),
      stat.ino,
      stat.dev,
    ].join(" ");
    const seen = known.get(where);
    if (seen?.stamp === stamp) return seen.digest;
    const got = await digest(where);
    // Writes set mtime; a file written this recently may change again
    // within the same tick and keep its stamp.
    const settled = stat.mtime !== null &&
      stat.mtime.getTime() < started - RACY_MS;
    if (settled) known.set(where, { stamp, digest: got });
    else known.delete(where);
    return got;
  };
}
