/**
 * A model on the Hugging Face hub opened as census weights without
 * downloading them: the file listing from the model API, the shard index
 * and `tokenizer.json` whole, each safetensors shard's header by byte
 * ranges; tensor data only when the census asks for it
 * (`ModelWeights.prepare`), and then only the byte ranges of those tensors.
 * Everything fetched is kept in the cache folder (see `cache.ts`).
 *
 * @module
 */

import { CensusError } from "../census_error.ts";
import {
  INDEX_NAME,
  type ModelWeights,
  parseShardIndex,
  tensorsByFile,
} from "../model_files.ts";
import { HubCache, type RevisionListing, type SnapshotCache } from "./cache.ts";
import { HubClient } from "./client.ts";
import { HubError } from "./hub_error.ts";
import { type HubId, isCommitSha, parseHubId } from "./hub_id.ts";
import {
  type FetchProgress,
  openRemoteSafetensors,
  type RemoteSafetensorsFile,
} from "./remote_file.ts";

/** The hub used when `HF_ENDPOINT` is not set. */
const DEFAULT_ENDPOINT = "https://huggingface.co";

/** Options of {@linkcode openHubWeights}; each defaults from the environment. */
export interface HubOptions {
  /** The hub or a mirror; default `HF_ENDPOINT`, else {@linkcode DEFAULT_ENDPOINT}. */
  endpoint?: string;
  /** Token for gated or private repos; default `HF_TOKEN`. */
  token?: string;
  /** The cache folder; default `HORIZON_CACHE_DIR`, else the project's `.cache/`. */
  cacheDir?: string;
  /** Bytes per range request for tensor data; default 16 MiB. */
  chunkBytes?: number;
  /** Give up when no byte arrives for this long; default 30 000 ms. */
  idleTimeoutMs?: number;
  /** Called as tensor data arrives (not for headers or small files). */
  onProgress?: (p: HubProgress) => void;
  /** Called once the weights are closed, with what reading them cost. */
  onDone?: (cost: { fetchedBytes: number; requests: number }) => void;
}

/** Progress of a census read from the hub. */
export interface HubProgress extends FetchProgress {
  /** Body bytes received from the hub so far, all requests included. */
  fetchedBytes: number;
}

/** Weights on the hub, with what reading them cost. */
interface HubWeights extends ModelWeights {
  /** Body bytes received from the hub so far (0 when all came from the cache). */
  fetchedBytes(): number;
  /** Requests sent to the hub so far. */
  requests(): number;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

/** `HORIZON_CACHE_DIR`, else `.cache/` at the project root (the rule of history/locations.ts). */
function defaultCacheDir(): string {
  return env("HORIZON_CACHE_DIR") ??
    new URL("../../../.cache", import.meta.url).pathname;
}

/**
 * The hub id `path` names, or `null` when it is a path: anything that
 * exists on disk (a local folder `org/name` wins), or that is not shaped
 * like `<org>/<name>[@revision]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubIdOf } from "./weights.ts";
 * assert.equal((await hubIdOf("no-such-org/no-such-model@v1"))?.revision, "v1");
 * assert.equal(await hubIdOf("./models/x"), null); // a path, not an id
 * ```
 */
export async function hubIdOf(path: string): Promise<HubId | null> {
  const id = parseHubId(path);
  if (id === null) return null;
  try {
    await Deno.lstat(path);
    return null;
  } catch {
    return id; // nothing there (or unreadable): not a local path
  }
}

/** Whole small files (index, tokenizer) from the cache, else fetched and kept. */
async function wholeFile(
  client: HubClient,
  cache: SnapshotCache,
  id: { repo: string; rev: string; file: string },
): Promise<Uint8Array> {
  const cached = await cache.readWhole(id.file);
  if (cached !== null) return cached;
  const bytes = await client.getWhole(
    client.fileUrl(id.repo, id.rev, id.file),
    { repo: id.repo, revision: id.rev, file: id.file },
  );
  await cache.writeWhole(id.file, bytes);
  return bytes;
}

/** The revision's listing: cached when the revision is a commit, else asked. */
async function listing(
  client: HubClient,
  cache: HubCache,
  id: HubId,
): Promise<RevisionListing> {
  const cached = await cache.readRevision(id.revision);
  if (cached !== null && isCommitSha(id.revision)) return cached;
  // A branch or tag may have moved: always asked (a few hundred bytes),
  // and written down only when it did.
  const got = await client.modelInfo(id.repo, id.revision);
  if (cached === null || !sameListing(cached, got)) {
    await cache.writeRevision(id.revision, got);
  }
  return got;
}

function sameListing(a: RevisionListing, b: RevisionListing): boolean {
  return a.sha === b.sha && a.files.length === b.files.length &&
    a.files.every((f, i) => f === b.files[i]);
}

/** The shard files to open and the index's map, as a folder on disk would give them. */
async function chooseShards(
  client: HubClient,
  cache: SnapshotCache,
  at: { id: HubId; rev: string; files: readonly string[] },
): Promise<{ shards: string[]; index: Map<string, string> | null }> {
  const { id, rev, files } = at;
  const present = new Set(files);
  if (present.has(INDEX_NAME)) {
    const text = new TextDecoder().decode(
      await wholeFile(client, cache, { repo: id.repo, rev, file: INDEX_NAME }),
    );
    const index = parseShardIndex(
      text,
      client.fileUrl(id.repo, rev, INDEX_NAME),
    );
    const shards = [...new Set(index.values())];
    if (shards.length === 0) {
      throw new CensusError(
        "bad-index",
        `${INDEX_NAME} of ${id.repo}: "weight_map" is empty`,
      );
    }
    const missing = shards.find((s) => !present.has(s));
    if (missing !== undefined) {
      throw new CensusError(
        "missing-shard",
        `${INDEX_NAME} of ${id.repo}@${id.revision} points at ${missing}, which the repo does not hold`,
      );
    }
    return { shards, index };
  }
  if (present.has("model.safetensors")) {
    return { shards: ["model.safetensors"], index: null };
  }
  // Like a folder on disk: its own .safetensors files, not subfolders'.
  const shards = files.filter((f) =>
    f.endsWith(".safetensors") && !f.includes("/")
  )
    .sort();
  if (shards.length === 0) {
    const shown = files.slice(0, 10).join(", ");
    throw new HubError(
      "no-weights",
      `${id.repo}@${id.revision} holds no .safetensors weights (files: ${
        shown || "none"
      }${files.length > 10 ? ", ..." : ""}); the census reads safetensors`,
    );
  }
  return { shards, index: null };
}

/**
 * Opens the weights of a hub repo: lists its files, reads the shard index,
 * `tokenizer.json` and every shard header (from the cache when there);
 * tensor data is fetched by `prepare(names)`. `dir` is the cache folder of
 * the commit, where `tokenizer.json` lies as in a model folder.
 *
 * @example
 * ```ts ignore
 * import { openHubWeights } from "./weights.ts";
 * const w = await openHubWeights({ repo: "Qwen/Qwen2.5-0.5B", revision: "main", explicitRevision: false });
 * await w.prepare?.(["model.embed_tokens.weight"]); // ~136 MB, once
 * w.close();
 * ```
 */
export async function openHubWeights(
  id: HubId,
  options: HubOptions = {},
): Promise<HubWeights> {
  const client = new HubClient({
    endpoint: options.endpoint ?? env("HF_ENDPOINT") ?? DEFAULT_ENDPOINT,
    token: options.token ?? env("HF_TOKEN"),
    idleTimeoutMs: options.idleTimeoutMs,
  });
  const repoCache = new HubCache(
    options.cacheDir ?? defaultCacheDir(),
    client.endpoint,
    id.repo,
  );
  const { sha, files } = await listing(client, repoCache, id);
  const rev = sha ?? id.revision; // a commit's files never change
  const cache = repoCache.snapshot(sha, id.revision);
  const { shards, index } = await chooseShards(client, cache, {
    id,
    rev,
    files,
  });
  if (files.includes("tokenizer.json")) {
    await wholeFile(client, cache, {
      repo: id.repo,
      rev,
      file: "tokenizer.json",
    });
  }
  const onProgress = options.onProgress;
  const opened: RemoteSafetensorsFile[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    opened.forEach((f) => f.close());
    options.onDone?.({ fetchedBytes: client.bytes, requests: client.requests });
  };
  try {
    // Headers are a few round trips each: all shards at once (a 70B model
    // has ~30), each opened file kept so that a failure closes them all.
    const results = await Promise.allSettled(shards.map(async (file) => {
      const f = await openRemoteSafetensors({
        client,
        cache,
        ctx: { repo: id.repo, revision: id.revision, file },
        url: client.fileUrl(id.repo, rev, file),
        chunkBytes: options.chunkBytes,
        onProgress: onProgress === undefined
          ? undefined
          : (p) => onProgress({ ...p, fetchedBytes: client.bytes }),
      });
      opened.push(f);
      return f;
    }));
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    opened.length = 0; // again, in shard order
    for (const r of results) {
      opened.push((r as PromiseFulfilledResult<RemoteSafetensorsFile>).value);
    }
    const tensorFile = tensorsByFile(opened);
    if (index !== null) checkIndexHolds(client, { id, rev, index, tensorFile });
    return {
      path: `${id.repo}@${id.revision}`,
      dir: cache.dir,
      index: index === null ? null : client.fileUrl(id.repo, rev, INDEX_NAME),
      files: opened,
      tensorFile,
      async prepare(names) {
        for (const name of names) {
          const f = tensorFile.get(name) as RemoteSafetensorsFile | undefined;
          await f?.fetchTensors([name]);
        }
      },
      fetchedBytes: () => client.bytes,
      requests: () => client.requests,
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

/** Checks every tensor of the index is in the shard it names. */
function checkIndexHolds(
  client: HubClient,
  at: {
    id: HubId;
    rev: string;
    index: Map<string, string>;
    tensorFile: ReadonlyMap<string, { path: string }>;
  },
): void {
  for (const [tensor, shard] of at.index) {
    const url = client.fileUrl(at.id.repo, at.rev, shard);
    if (at.tensorFile.get(tensor)?.path !== url) {
      throw new CensusError(
        "bad-index",
        `${INDEX_NAME} of ${at.id.repo}: tensor "${tensor}" is listed in ${shard} but that shard's header does not hold it`,
      );
    }
  }
}
