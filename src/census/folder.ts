/**
 * Listing a model folder: which of its entries are weights files. Shared
 * by the safetensors and the GGUF census, which look for different names.
 *
 * @module
 */

/** `dir/name`, without doubling a trailing slash of `dir`. */
export function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** What {@linkcode listFolder} found. */
interface FolderListing {
  /** Every entry's name, in listing order. */
  names: string[];
  /** The paths of the entries `keep` accepted that are files, in listing order. */
  files: string[];
}

/**
 * The entries of `dir`, and the files among those whose name `keep`
 * accepts. Symlinks count as files when they lead to one (shards are often
 * links into a download cache); broken ones are skipped. Throws what
 * listing the folder throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listFolder } from "./folder.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/a.gguf`, "");
 *   await Deno.mkdir(`${dir}/b.gguf`);
 *   await Deno.symlink(`${dir}/gone`, `${dir}/c.gguf`);
 *   const { names, files } = await listFolder(dir, (n) => n.endsWith(".gguf"));
 *   assert.deepEqual(names.sort(), ["a.gguf", "b.gguf", "c.gguf"]);
 *   assert.deepEqual(files, [`${dir}/a.gguf`]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function listFolder(
  dir: string,
  keep: (name: string) => boolean,
): Promise<FolderListing> {
  const names: string[] = [];
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    names.push(e.name);
    if (!keep(e.name)) continue;
    const p = join(dir, e.name);
    const target = e.isSymlink
      ? await Deno.stat(p).catch(() => null) // dangling or a loop
      : null;
    if (e.isFile || target?.isFile) files.push(p);
  }
  return { names, files };
}
