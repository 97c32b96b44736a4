/**
 * Atomic file writes: readers see the old file or the complete new one, never
 * a half-written file.
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

/**
 * Writes `text` to `path` through a temporary file in the same directory
 * (so the final rename cannot cross file systems), then renames it over
 * `path`; removes the temporary file if anything fails. The temporary file
 * (`.<name>.<pid>.<hex>.tmp`) is tracked by `temp_files.ts`, so an
 * interrupted CLI removes it and `sweepStaleTemps` recognises it once this
 * process is gone. A missing directory is an error unless `createDirs` is
 * set.
 *
 * @example
 * ```ts ignore
 * import { writeTextAtomic } from "./atomic.ts";
 * await writeTextAtomic("reports/README.md", "# Reports\n");
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
  const tmp = tempPathFor(path);
  trackTemp(tmp);
  try {
    if (options.createDirs) {
      await Deno.mkdir(split(path)[0], { recursive: true });
    }
    await Deno.writeFile(tmp, bytes, { createNew: true, mode: 0o644 });
    // The mode above is reduced by the umask; results are for everyone.
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o644);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  } finally {
    untrackTemp(tmp);
  }
}
