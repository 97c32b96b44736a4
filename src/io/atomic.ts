/**
 * Atomic file writes: readers see the old file or the complete new one, never
 * a half-written file.
 *
 * @module
 */

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
 * `path`; removes the temporary file if anything fails. A missing directory
 * is an error unless `createDirs` is set.
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
  const [dir, base] = split(path);
  if (options.createDirs) await Deno.mkdir(dir, { recursive: true });
  const tmp = await Deno.makeTempFile({
    dir,
    prefix: `.${base}.`,
    suffix: ".tmp",
  });
  try {
    // Temporary files are created private (0600); results are for everyone.
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o644);
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
