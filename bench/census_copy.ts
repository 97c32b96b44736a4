/**
 * Writing the census benchmark's model files: a new header followed by the
 * tensor bytes of an existing file, streamed in 16 MiB chunks (the
 * synthetic embedding is hundreds of megabytes).
 *
 * @module
 */

/** A byte range of a file on disk. */
export interface FileRange {
  /** The file. */
  path: string;
  /** Where the range starts. */
  byteOffset: number;
  /** Its length. */
  byteLength: number;
}

/**
 * Writes `header` to `out`, then, when given, the bytes of `source`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeHeaderAndCopy } from "./census_copy.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeFile(`${dir}/a`, new Uint8Array([1, 2, 3, 4]));
 *   {
 *     using out = await Deno.open(`${dir}/b`, { write: true, create: true });
 *     await writeHeaderAndCopy(out, new Uint8Array([9]), {
 *       path: `${dir}/a`, byteOffset: 1, byteLength: 2,
 *     });
 *   }
 *   assert.deepEqual(await Deno.readFile(`${dir}/b`), new Uint8Array([9, 2, 3]));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeHeaderAndCopy(
  out: Deno.FsFile,
  header: Uint8Array,
  source?: FileRange,
): Promise<void> {
  const write = async (b: Uint8Array) => {
    for (let at = 0; at < b.length;) at += await out.write(b.subarray(at));
  };
  await write(header);
  if (source === undefined) return;
  using src = await Deno.open(source.path);
  await src.seek(source.byteOffset, Deno.SeekMode.Start);
  const chunk = new Uint8Array(16 << 20);
  for (let left = source.byteLength; left > 0;) {
    const n = await src.read(chunk.subarray(0, Math.min(left, chunk.length)));
    if (n === null) throw new Error(`${source.path} ended early`);
    await write(chunk.subarray(0, n));
    left -= n;
  }
}
