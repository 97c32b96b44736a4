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
import { join, listFolder } from "./folder.ts";
import { findGguf, openGgufWeights } from "./gguf/weights.ts";
import type { GgufStorage } from "./gguf/types.ts";
import type { TokenTable } from "./tokenizer.ts";

/** A tensor as the census sees it. */
interface WeightsTensor {
  /** Stored element type: a safetensors dtype, or a ggml type (`Q4_K`). */
  readonly dtype: string;
  /** Row-major shape. */
  readonly shape: readonly number[];
  /** Bytes per row, given where the dtype alone does not say (GGUF blocks). */
  readonly rowBytes?: number;
  /** Block layout of a GGUF tensor's rows. */
  readonly storage?: GgufStorage;
}

/**
 * A weights file as the census reads it: a {@linkcode SafetensorsFile}, or
 * a GGUF file (gguf/reader.ts).
 */
export interface WeightsFile extends
  Pick<
    SafetensorsFile,
    "path" | "names" | "readRows" | "readRowsSync" | "close"
  > {
  /** The tensor `name`; throws when there is none. */
  tensor(name: string): WeightsTensor;
  /** The tensor in blocks of whole rows. */
  rowBlocks(
    name: string,
    options?: { blockBytes?: number },
  ): AsyncGenerator<{ bytes: Uint8Array }>;
}

/** The opened weights of a model. */
export interface ModelWeights {
  /** The path as given. */
  path: string;
  /** Folder holding the weights (where `tokenizer.json` is looked for). */
  dir: string;
  /** The index file when the model is sharded, else `null`. */
  index: string | null;
  /** The opened safetensors files, in index (or directory) order. */
  files: WeightsFile[];
  /** Which file holds each tensor. */
  tensorFile: ReadonlyMap<string, WeightsFile>;
  /**
   * Token strings carried by the weights themselves (a GGUF file's
   * metadata); absent where `tokenizer.json` beside them is read instead.
   */
  tokens?: () => TokenTable | null;
  /**
   * Makes the data of `names` readable before the census reads it, blocking
   * reads included: weights on the hub fetch those tensors' byte ranges.
   * Absent for files on disk, whose data is always there.
   */
  prepare?(names: readonly string[]): Promise<void>;
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
  return parseShardIndex(text, indexPath);
}

/**
 * Shard file names of each tensor, in order of first appearance, from the
 * text of a shard index (`indexPath` names it in messages). Shared with the
 * hub reader, which fetches the index instead of reading it from disk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShardIndex } from "./model_files.ts";
 * const text = '{"weight_map": {"lm_head.weight": "model-00002.safetensors"}}';
 * assert.deepEqual(
 *   [...parseShardIndex(text, "model.safetensors.index.json")],
 *   [["lm_head.weight", "model-00002.safetensors"]],
 * );
 * ```
 */
export function parseShardIndex(
  text: string,
  indexPath: string,
): Map<string, string> {
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
  const gguf = await findGguf(path);
  if (gguf !== null) return openGgufWeights(gguf, path);
  const found = await locateWeights(path);
  const files: SafetensorsFile[] = [];
  const close = () => files.forEach((f) => f.close());
  try {
    for (const p of found.shardPaths) files.push(await openSafetensors(p));
    const tensorFile = tensorsByFile(files);
    if (found.index !== null) checkIndexHolds(path, found.index, tensorFile);
    return {
      path,
      dir: found.dir,
      index: found.index?.path ?? null,
      files,
      tensorFile,
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

/** A shard index and the shard of each tensor. */
interface ShardIndex {
  /** The index file. */
  path: string;
  /** Shard file name of each tensor. */
  shards: Map<string, string>;
}

/** Where the weights at a census path are, before any is opened. */
interface WeightsLocation {
  dir: string;
  index: ShardIndex | null;
  shardPaths: string[];
}

/** The safetensors files at `path`: the file itself, or a folder's. */
async function locateWeights(path: string): Promise<WeightsLocation> {
  const stat = await statOrNull(path);
  if (stat === null) {
    throw new CensusError("not-found", `no such file or folder: ${path}`);
  }
  if (stat.isFile) {
    return { dir: dirname(path), index: null, shardPaths: [path] };
  }
  if (!stat.isDirectory) {
    throw new CensusError("not-found", `not a file or folder: ${path}`);
  }
  const indexPath = join(path, INDEX_NAME);
  if (await statOrNull(indexPath) !== null) {
    const index = { path: indexPath, shards: await readIndex(indexPath) };
    return { dir: path, index, shardPaths: await indexedShards(path, index) };
  }
  return { dir: path, index: null, shardPaths: await unindexedShards(path) };
}

/** The paths of the shards an index names, each checked to be a file. */
async function indexedShards(
  dir: string,
  index: ShardIndex,
): Promise<string[]> {
  const shards = [...new Set(index.shards.values())];
  if (shards.length === 0) {
    throw new CensusError("bad-index", `${index.path}: "weight_map" is empty`);
  }
  const shardPaths = shards.map((s) => join(dir, s));
  for (const [i, p] of shardPaths.entries()) {
    const s = await statOrNull(p);
    if (s === null || !s.isFile) {
      const needed = [...index.shards].filter(([, f]) => f === shards[i]).map((
        [t],
      ) => t);
      throw new CensusError(
        "missing-shard",
        `${index.path} points at missing shard ${
          shards[i]
        } (holding ${needed.length} tensors, e.g. ${
          needed.slice(0, 3).join(", ")
        })`,
      );
    }
  }
  return shardPaths;
}

/**
 * The weights of a folder without an index: its `model.safetensors`, else
 * every `.safetensors` file in it, sorted.
 */
async function unindexedShards(dir: string): Promise<string[]> {
  const single = join(dir, "model.safetensors");
  const singleStat = await statOrNull(single);
  if (singleStat !== null) {
    if (!singleStat.isFile) {
      throw new CensusError("no-weights", `${single} is not a file`);
    }
    return [single];
  }
  const shardPaths = await listSafetensors(dir);
  shardPaths.sort();
  if (shardPaths.length === 0) {
    throw new CensusError(
      "no-weights",
      `no .safetensors file in ${dir} (and no ${INDEX_NAME})`,
    );
  }
  return shardPaths;
}

/** The `.safetensors` files in `dir`, in listing order. */
async function listSafetensors(dir: string): Promise<string[]> {
  try {
    return (await listFolder(dir, (n) => n.endsWith(".safetensors"))).files;
  } catch (e) {
    throw new CensusError(
      "io",
      `cannot list ${dir} (${(e as Error).message})`,
    );
  }
}

/** Which file holds each tensor; a tensor in two files is an error. */
export function tensorsByFile(
  files: readonly SafetensorsFile[],
): Map<string, SafetensorsFile> {
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
  return tensorFile;
}

/** Checks every tensor of the index is in the shard it names. */
function checkIndexHolds(
  dir: string,
  index: ShardIndex,
  tensorFile: ReadonlyMap<string, SafetensorsFile>,
): void {
  for (const [tensor, shard] of index.shards) {
    const f = tensorFile.get(tensor);
    if (f === undefined || f.path !== join(dir, shard)) {
      throw new CensusError(
        "bad-index",
        `${index.path}: tensor "${tensor}" is listed in ${shard} but that shard's header does not hold it`,
      );
    }
  }
}
