/**
 * Whether something is at a path, without following a final symlink: a
 * dangling link still occupies the name a writer would take.
 *
 * @module
 */

/**
 * True when `path` names a file, folder or link; false when nothing is
 * there; any other error (permission, I/O) is thrown, not taken as absence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathExists } from "./path_exists.ts";
 * assert.equal(await pathExists(Deno.cwd()), true);
 * assert.equal(await pathExists(`${Deno.cwd()}/no-such-file-here`), false);
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
