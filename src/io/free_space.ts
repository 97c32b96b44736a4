/**
 * Room on disk before work that writes: the bytes a job will write, folder
 * by folder, set against the free space of each file system, so a run that
 * could not save its outputs is refused before it trains rather than
 * failing at the end. Folders on one file system share its free space (they
 * are grouped by device number); a folder that does not exist yet is
 * measured at its nearest existing parent.
 *
 * The free space comes from `statfs` (Node's `fs.statfs`, which Deno
 * implements): the blocks available to an unprivileged user. Tests pass a
 * fake {@linkcode FreeSpaceProbe}.
 *
 * @module
 */

import { statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CodedError } from "../errors/coded_error.ts";

/** Bytes a job will write under one folder. */
export interface SpaceNeed {
  /** The folder (it may not exist yet). */
  readonly dir: string;
  /** Bytes it will hold at most, at once. */
  readonly bytes: number;
}

/** The file system a folder is on, and its free bytes. */
export interface FreeSpace {
  /** Identifies the file system (folders with equal devices share it). */
  readonly device: number | string;
  /** Bytes available to this user. */
  readonly free: number;
}

/** Measures the file system of an existing folder. */
export type FreeSpaceProbe = (dir: string) => Promise<FreeSpace>;

/** Not enough room: names the folder, the bytes needed and those free. */
export class NoSpaceError extends CodedError<"no-space"> {}

/** The free space of the file system holding `dir`, by `statfs`. */
export async function statfsProbe(dir: string): Promise<FreeSpace> {
  const [fs, info] = await Promise.all([statfs(dir), Deno.stat(dir)]);
  return { device: info.dev, free: Number(fs.bavail) * Number(fs.bsize) };
}

/** `dir`, or its nearest parent that exists. */
async function existingParent(dir: string): Promise<string> {
  let at = resolve(dir);
  for (;;) {
    try {
      await Deno.stat(at);
      return at;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const up = dirname(at);
      if (up === at) return at;
      at = up;
    }
  }
}

/**
 * Bytes in MB (10^6) with one decimal, or GB past 10 GB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { megabytes } from "./free_space.ts";
 * assert.equal(megabytes(1_550_000), "1.6 MB");
 * assert.equal(megabytes(12_345_678_901), "12.3 GB");
 * ```
 */
export function megabytes(bytes: number): string {
  return bytes >= 1e10
    ? `${(bytes / 1e9).toFixed(1)} GB`
    : `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Checks that every file system has room for what `needs` will write on it
 * (needs on one file system added up); throws a {@link NoSpaceError} for
 * the first that has not: `needs ~X MB under <dir>, Y MB free`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFreeSpace } from "./free_space.ts";
 * const probe = async () => ({ device: 1, free: 5_000_000 });
 * await checkFreeSpace([{ dir: "/a", bytes: 3_000_000 }], probe);
 * await assert.rejects(
 *   checkFreeSpace([{ dir: "/a", bytes: 3_000_000 }, { dir: "/b", bytes: 3_000_000 }], probe),
 *   { message: "needs ~6.0 MB under /a and /b, 5.0 MB free" },
 * );
 * ```
 */
export async function checkFreeSpace(
  needs: readonly SpaceNeed[],
  probe: FreeSpaceProbe = statfsProbe,
): Promise<void> {
  const byDevice = new Map<
    FreeSpace["device"],
    { dirs: string[]; bytes: number; free: number }
  >();
  for (const need of needs) {
    if (need.bytes <= 0) continue;
    const space = await probe(await existingParent(need.dir));
    const entry = byDevice.get(space.device) ??
      { dirs: [], bytes: 0, free: space.free };
    if (!entry.dirs.includes(need.dir)) entry.dirs.push(need.dir);
    entry.bytes += need.bytes;
    byDevice.set(space.device, entry);
  }
  for (const { dirs, bytes, free } of byDevice.values()) {
    if (bytes > free) {
      throw new NoSpaceError(
        "no-space",
        `needs ~${megabytes(bytes)} under ${dirs.join(" and ")}, ${
          megabytes(free)
        } free`,
      );
    }
  }
}
