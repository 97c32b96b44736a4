/**
 * Creating a file only if it does not exist, whole: the content is written
 * under a temporary name and hard-linked to the final name, which fails when
 * that name exists (like `O_EXCL`), so a reader never sees a half-written
 * file and two writers never both win. For lock files and keys that must be
 * created exactly once.
 *
 * @module
 */

/**
 * Creates `path` holding `data` (with permission bits `mode`, default 0644)
 * unless it exists; returns whether this call created it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createWhole } from "./create_whole.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   assert.equal(await createWhole(`${dir}/a`, "first"), true);
 *   assert.equal(await createWhole(`${dir}/a`, "second"), false);
 *   assert.equal(await Deno.readTextFile(`${dir}/a`), "first");
 *   assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function createWhole(
  path: string,
  data: string | Uint8Array,
  { mode = 0o644 }: { readonly mode?: number } = {},
): Promise<boolean> {
  const temp = `${path}.${Deno.pid}.${
    crypto.getRandomValues(new Uint32Array(1))[0].toString(16)
  }.tmp`;
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  await Deno.writeFile(temp, bytes, { mode, createNew: true });
  try {
    await Deno.link(temp, path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}
