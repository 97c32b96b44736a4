/**
 * Finding the safetensors files of a model on disk.
 *
 * A census path is either one `.safetensors` file or a Hugging Face model
 * folder: a single `model.safetensors`, or shards listed by
 * `model.safetensors.index.json` (`{"weight_map": {tensor: shard file}}`).
 * Only headers are read here.
 *
 * @module
 */

import {
  openSafetensors,
  type SafetensorsFile,
} from "../io/safetensors/mod.ts";
import { CensusError } from "./census_error.ts";

/** The opened weights of a model. */
export interface ModelWeights {
  /** The path as given. */
  path: string;
  /** Folder holding the weights (where `tokenizer.json` is looked for). */
  dir: string;
  /** The index file when the model is sharded, else `null`. */
  index: string | null;
  /** The opened safetensors files, in index (or directory) order. */
  files: SafetensorsFile[];
  /** Which file holds each tensor. */
  tensorFile: ReadonlyMap<string, SafetensorsFile>;
  /** Closes every file. */
  close(): void;
}

/** File name of the shard index of a sharded Hugging Face checkpoint. */
export const INDEX_NAME = "model.safetensors.index.json";

function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : trimmed.slice(0, slash);
}

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new CensusError(
      "io",
      `cannot access ${path} (${(e as Error).message})`,
    );
  }
}

/** Shard file names from an index, in order of first appearance. */
async function readIndex(indexPath: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(indexPath);
  } catch (e) {
    throw new CensusError(
      "io",
      `cannot read ${indexPath} (${(e as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CensusError(
      "bad-index",
      `${indexPath}: not valid JSON (${(e as Error).message})`,
    );
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new CensusError(
      "bad-index",
      `${indexPath}: no "weight_map" object mapping tensor names to shard files`,
    );
  }
  const out = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (
      typeof shard !== "string" || shard === "" || shard.startsWith("/") ||
      shard.split("/").includes("..")
    ) {
      throw new CensusError(
        "bad-index",
        `${indexPath}: tensor "${tensor}" maps to ${
          JSON.stringify(shard)
        }, not a file name inside the model folder`,
      );
    }
    out.set(tensor, shard);
  }
  return out;
}

/**
 * Opens the weights at `path` (file or model folder) and indexes their
 * tensors. Every header is validated; data is not read. The caller must
 * `close()` the result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openModelWeights } from "./model_files.ts";
 * import { writeSafetensors } from "../io/safetensors/mod.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const data = new Float32Array(8);
 *   await writeSafetensors(`${dir}/model.safetensors`, {
 *     "model.embed_tokens.weight": { dtype: "F32", shape: [4, 2], data },
 *     "lm_head.weight": { dtype: "F32", shape: [4, 2], data },
 *   });
 *   const w = await openModelWeights(dir);
 *   try {
 *     assert.equal(w.index, null); // one file, not sharded
 *     assert.deepEqual([...w.tensorFile.keys()].sort(), [
 *       "lm_head.weight",
 *       "model.embed_tokens.weight",
 *     ]);
 *   } finally {
 *     w.close();
 *   }
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function openModelWeights(path: string): Promise<ModelWeights> {
  const stat = await statOrNull(path);
  if (stat === null) {
    throw new CensusError("not-found", `no such file or folder: ${path}`);
  }
  let dir: string;
  let index: string | null = null;
  let shardPaths: string[];
  let indexMap: Map<string, string> | null = null;
  if (stat.isFile) {
    dir = dirname(path);
    shardPaths = [path];
  } else if (stat.isDirectory) {
    dir = path;
    const indexPath = join(path, INDEX_NAME);
    if (await statOrNull(indexPath) !== null) {
      index = indexPath;
      indexMap = await readIndex(indexPath);
      const shards = [...new Set(indexMap.values())];
      if (shards.length === 0) {
        throw new CensusError(
          "bad-index",
          `${indexPath}: "weight_map" is empty`,
        );
      }
      shardPaths = shards.map((s) => join(path, s));
      for (const [i, p] of shardPaths.entries()) {
        const s = await statOrNull(p);
        if (s === null || !s.isFile) {
          const needed = [...indexMap].filter(([, f]) => f === shards[i]).map((
            [t],
          ) => t);
          throw new CensusError(
            "missing-shard",
            `${indexPath} points at missing shard ${
              shards[i]
            } (holding ${needed.length} tensors, e.g. ${
              needed.slice(0, 3).join(", ")
            })`,
          );
        }
      }
    } else {
      const single = join(path, "model.safetensors");
      const singleStat = await statOrNull(single);
      if (singleStat !== null) {
        if (!singleStat.isFile) {
          throw new CensusError("no-weights", `${single} is not a file`);
        }
        shardPaths = [single];
      } else {
        shardPaths = [];
        try {
          for await (const e of Deno.readDir(path)) {
            if (!e.name.endsWith(".safetensors")) continue;
            // Symlinks count when they lead to a file (shards are often
            // links into a download cache); broken ones are skipped.
            const p = join(path, e.name);
            const target = e.isSymlink
              ? await Deno.stat(p).catch(() => null) // dangling or a loop
              : null;
            if (e.isFile || target?.isFile) shardPaths.push(p);
          }
        } catch (e) {
          throw new CensusError(
            "io",
            `cannot list ${path} (${(e as Error).message})`,
          );
        }
        shardPaths.sort();
        if (shardPaths.length === 0) {
          throw new CensusError(
            "no-weights",
            `no .safetensors file in ${path} (and no ${INDEX_NAME})`,
          );
        }
      }
    }
  } else {
    throw new CensusError("not-found", `not a file or folder: ${path}`);
  }

  const files: SafetensorsFile[] = [];
  const close = () => files.forEach((f) => f.close());
  try {
    for (const p of shardPaths) files.push(await openSafetensors(p));
    const tensorFile = new Map<string, SafetensorsFile>();
    for (const f of files) {
      for (const name of f.names()) {
        if (tensorFile.has(name)) {
          throw new CensusError(
            "bad-index",
            `tensor "${name}" is stored twice: in ${
              tensorFile.get(name)!.path
            } and ${f.path}`,
          );
        }
        tensorFile.set(name, f);
      }
    }
    if (indexMap !== null) {
      for (const [tensor, shard] of indexMap) {
        const f = tensorFile.get(tensor);
        if (f === undefined || f.path !== join(path, shard)) {
          throw new CensusError(
            "bad-index",
            `${index}: tensor "${tensor}" is listed in ${shard} but that shard's header does not hold it`,
          );
        }
      }
    }
    return { path, dir, index, files, tensorFile, close };
  } catch (e) {
    close();
    throw e;
  }
}
