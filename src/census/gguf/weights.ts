/**
 * A GGUF model on disk as the census opens it: a `.gguf` file (or any file
 * starting with the `GGUF` magic), or a folder holding one `.gguf` file and
 * no safetensors weights. Its tensors, and its token strings from the
 * metadata, are served in the shape of a safetensors model
 * (`ModelWeights` in ../model_files.ts).
 *
 * @module
 */

import type { TokenTable } from "../tokenizer.ts";
import { GgufError } from "./error.ts";
import { type GgufFile, openGguf } from "./reader.ts";
import { listFolder } from "../folder.ts";

/** The opened weights of a GGUF model (one file). */
interface GgufWeights {
  /** The path as given. */
  path: string;
  /** Folder holding the file. */
  dir: string;
  /** Always `null`: a GGUF model here is one file. */
  index: null;
  /** The opened file. */
  files: GgufFile[];
  /** Which file holds each tensor. */
  tensorFile: ReadonlyMap<string, GgufFile>;
  /** Token strings from the file's metadata (see {@linkcode GgufFile.tokens}). */
  tokens: () => TokenTable | null;
  /** Closes the file. */
  close(): void;
}

async function startsWithMagic(path: string): Promise<boolean> {
  try {
    using f = await Deno.open(path);
    const head = new Uint8Array(4);
    const n = await f.read(head);
    return n === 4 && new TextDecoder().decode(head) === "GGUF";
  } catch {
    return false; // unreadable: the safetensors path names the problem
  }
}

/** The `.gguf` files of `dir`, sorted, and whether it holds safetensors weights. */
async function listGguf(
  dir: string,
): Promise<{ gguf: string[]; safetensors: boolean }> {
  try {
    const { names, files } = await listFolder(
      dir,
      (name) => name.toLowerCase().endsWith(".gguf"),
    );
    return {
      gguf: files.sort(),
      safetensors: names.some((name) =>
        name.endsWith(".safetensors") || name.endsWith(".index.json")
      ),
    };
  } catch {
    return { gguf: [], safetensors: false }; // the safetensors path reports it
  }
}

/**
 * The GGUF file a census path names, or `null` when it names something
 * else (safetensors weights, or nothing: then the safetensors census gives
 * its own message). A folder holding several `.gguf` files and no
 * safetensors is refused, naming them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findGguf } from "./weights.ts";
 * import { writeGguf } from "./write_gguf.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   assert.equal(await findGguf(dir), null);
 *   await writeGguf(`${dir}/m.gguf`, { tensors: [] });
 *   assert.equal(await findGguf(dir), `${dir}/m.gguf`);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function findGguf(path: string): Promise<string | null> {
  const stat = await Deno.stat(path).catch(() => null);
  if (stat === null) return null;
  if (stat.isFile) {
    return path.toLowerCase().endsWith(".gguf") || await startsWithMagic(path)
      ? path
      : null;
  }
  if (!stat.isDirectory) return null;
  const { gguf, safetensors } = await listGguf(path);
  if (safetensors || gguf.length === 0) return null;
  if (gguf.length > 1) {
    throw new GgufError(
      "ambiguous",
      path,
      `${gguf.length} .gguf files in this folder (${
        gguf.map((p) => p.slice(p.lastIndexOf("/") + 1)).slice(0, 5).join(", ")
      }${gguf.length > 5 ? ", ..." : ""}); pass one of them`,
    );
  }
  return gguf[0];
}

/**
 * Opens the GGUF file `file` (found by {@linkcode findGguf} for the census
 * path `path`). The caller must `close()` the result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openGgufWeights } from "./weights.ts";
 * import { toF32Bytes, writeGguf } from "./write_gguf.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeGguf(`${dir}/m.gguf`, {
 *     tensors: [{
 *       name: "token_embd.weight", type: "F32", shape: [2, 1],
 *       data: toF32Bytes([1, 1]),
 *     }],
 *   });
 *   const w = openGgufWeights(`${dir}/m.gguf`, dir);
 *   try {
 *     assert.deepEqual([...w.tensorFile.keys()], ["token_embd.weight"]);
 *     assert.equal(w.tokens(), null); // no tokenizer.ggml.tokens
 *   } finally {
 *     w.close();
 *   }
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function openGgufWeights(file: string, path: string): GgufWeights {
  const f = openGguf(file);
  const slash = file.lastIndexOf("/");
  return {
    path,
    dir: slash < 0 ? "." : file.slice(0, slash) || "/",
    index: null,
    files: [f],
    tensorFile: new Map(f.names().map((n) => [n, f])),
    tokens: () => f.tokens(),
    close: () => f.close(),
  };
}
