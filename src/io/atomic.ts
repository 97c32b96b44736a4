/**
 * Atomic file writes: readers see the old file or the complete new one, never
 * a half-written file. This is the one place that writes a temporary file
 * and renames it over its target: whole files go through
 * {@linkcode writeFileAtomic} / {@linkcode writeTextAtomic}, files written
 * piece by piece (a streamed safetensors history) through
 * {@linkcode pendingFile}, which `writeFileAtomic` is built on.
 *
 * @module
 */

import { tempPathFor, trackTemp, untrackTemp } from "./temp_files.ts";

function split(path: string): [dir: string, base: string] {
  const slash = path.lastIndexOf("/");
  return [
    slash >= 0 ? path.slice(0, slash) || "/" : ".",
    path.slice(slash + 1),
  ];
}

/** Options of {@linkcode pendingFile}. */
export interface PendingFileOptions {
  /**
   * Write under this stable name instead of a fresh
   * `.<name>.<pid>.<hex>.tmp`, so that a later process can resume an
   * interrupted write. Such a file is not tracked: an interruption leaves it
   * for the resume.
   */
  tempPath?: string;
}

/** A file being written under a temporary name until it is committed. */
export interface PendingFile {
  /** The final path. */
  readonly path: string;
  /** Where the data goes until {@linkcode PendingFile.commit}. */
  readonly tempPath: string;
  /**
   * Makes the finished temporary file readable by everyone (0644) and
   * renames it over `path`. The caller has closed it.
   */
  commit(): Promise<void>;
  /** Removes the temporary file (if it exists); never throws. */
  discard(): Promise<void>;
}

/**
 * Reserves a temporary path next to `path` (same directory, so the final
 * rename cannot cross file systems) and tracks it with `temp_files.ts`, so
 * an interrupted CLI removes it and `sweepStaleTemps` recognises it once
 * this process is gone. Creates nothing: the caller writes `tempPath`, then
 * commits or discards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pendingFile } from "./atomic.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const pending = pendingFile(`${dir}/log.txt`);
 *   const file = await Deno.open(pending.tempPath, { write: true, createNew: true });
 *   await file.write(new TextEncoder().encode("line 1\n"));
 *   file.close();
 *   await pending.commit();
 *   assert.equal(await Deno.readTextFile(`${dir}/log.txt`), "line 1\n");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function pendingFile(
  path: string,
  options: PendingFileOptions = {},
): PendingFile {
  const tempPath = options.tempPath ?? tempPathFor(path);
  if (options.tempPath === undefined) trackTemp(tempPath);
  return {
    path,
    tempPath,
    async commit() {
      // Created with the process umask; results are for everyone.
      if (Deno.build.os !== "windows") await Deno.chmod(tempPath, 0o644);
      await Deno.rename(tempPath, path);
      untrackTemp(tempPath);
    },
    async discard() {
      await Deno.remove(tempPath).catch(() => {});
      untrackTemp(tempPath);
    },
  };
}

/**
 * Writes `text` to `path` through a temporary file in the same directory,
 * then renames it over `path`; removes the temporary file if anything fails
 * (see {@linkcode pendingFile}). A missing directory is an error unless
 * `createDirs` is set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTextAtomic } from "./atomic.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeTextAtomic(`${dir}/reports/README.md`, "# Reports\n", { createDirs: true });
 *   assert.equal(await Deno.readTextFile(`${dir}/reports/README.md`), "# Reports\n");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeTextAtomic(
  path: string,
  text: string,
  options: { createDirs?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text), options);
}

/** {@linkcode writeTextAtomic} for bytes. */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: { createDirs?: boolean } = {},
): Promise<void> {
  const pending = pendingFile(path);
  try {
    if (options.createDirs) {
      await Deno.mkdir(split(path)[0], { recursive: true });
    }
    await Deno.writeFile(pending.tempPath, bytes, { createNew: true });
    await pending.commit();
  } catch (e) {
    await pending.discard();
    throw e;
  }
}
