/**
 * Positioned reads that fill a whole buffer: one `read` may return fewer
 * bytes than asked (a signal, a network file system, a pipe), so a reader
 * that needs N bytes loops until it has them or the file ends.
 *
 * Both return how many bytes they got; fewer than `into.length` means the
 * file ended at `offset + got`, and each caller names that in its own error
 * (a truncated safetensors file, GGUF file or cached hub range).
 *
 * @module
 */

import { read, readSync } from "node:fs";

/**
 * Reads `into.length` bytes of `fd` from byte `offset`, or up to the end of
 * the file; returns the bytes read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync } from "node:fs";
 * import { readAt } from "./read_at.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([1, 2, 3, 4, 5]));
 * const fd = openSync(path, "r");
 * try {
 *   const into = new Uint8Array(4);
 *   assert.equal(await readAt(fd, 3, into), 2); // the file ends after 5
 *   assert.deepEqual([...into.subarray(0, 2)], [4, 5]);
 * } finally {
 *   closeSync(fd);
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function readAt(
  fd: number,
  offset: number,
  into: Uint8Array,
): Promise<number> {
  let got = 0;
  while (got < into.length) {
    const n = await new Promise<number>((resolve, reject) =>
      read(
        fd,
        into,
        got,
        into.length - got,
        offset + got,
        (e, n) => e ? reject(e) : resolve(n),
      )
    );
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** {@linkcode readAt}, blocking. */
export function readAtSync(
  fd: number,
  offset: number,
  into: Uint8Array,
): number {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
