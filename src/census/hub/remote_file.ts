/**
 * A safetensors file on the hub, read by byte ranges: the 8-byte length and
 * the header first, then, on request, only the byte ranges of the tensors
 * the census analyses. It has the interface of a file on disk
 * (`SafetensorsFile`), so the census streams its rows with the same code:
 * fetched ranges are kept in the cache folder and read from there with
 * positioned reads, blocking ones included.
 *
 * @module
 */

import { closeSync, openSync } from "node:fs";
import { pendingFile } from "../../io/atomic.ts";
import { readAt, readAtSync } from "../../io/read_at.ts";
import {
  SafetensorsError,
  type SafetensorsFile,
  type SafetensorsHeader,
} from "../../io/safetensors/mod.ts";
import {
  headerLengthFrom,
  lookup,
  parseHeader,
} from "../../io/safetensors/header.ts";
import { rowReadPlan, streamRowBlocks } from "../../io/safetensors/reader.ts";
import type { HubClient, RequestContext } from "./client.ts";
import { HubError } from "./hub_error.ts";
import { type RemoteFileMeta, type SnapshotCache } from "./cache.ts";

/** Progress of fetching tensor data, see {@linkcode RemoteFileOptions.onProgress}. */
export interface FetchProgress {
  /** The tensor being fetched. */
  tensor: string;
  /** Its bytes fetched so far. */
  done: number;
  /** Its bytes in all. */
  total: number;
}

/** Where a remote file is and how to fetch it. */
interface RemoteFileOptions {
  /** The client that sends the requests. */
  client: HubClient;
  /** Where fetched ranges are kept. */
  cache: SnapshotCache;
  /** Repo, revision and file name (for messages). */
  ctx: RequestContext & { file: string };
  /** The `resolve` URL (also the file's `path` in reports). */
  url: string;
  /** Bytes per range request for tensor data; default 16 MiB. */
  chunkBytes?: number;
  /** Called as tensor data arrives. */
  onProgress?: (p: FetchProgress) => void;
}

/** A {@linkcode SafetensorsFile} whose data is fetched on request. */
export interface RemoteSafetensorsFile extends SafetensorsFile {
  /**
   * Makes the data of `names` readable (fetching what is not cached yet);
   * reads of other tensors fail.
   */
  fetchTensors(names: readonly string[]): Promise<void>;
}

const DEFAULT_CHUNK_BYTES = 16 << 20;

/** Where the data section of the header says the file ends (loosely, before validation). */
function describedEnd(headerBytes: Uint8Array, dataStart: number): number {
  try {
    const json = JSON.parse(new TextDecoder().decode(headerBytes));
    let end = 0;
    for (const [k, v] of Object.entries(json ?? {})) {
      const o = (v as { data_offsets?: unknown })?.data_offsets;
      if (
        k !== "__metadata__" && Array.isArray(o) && Number.isSafeInteger(o[1])
      ) {
        end = Math.max(end, o[1] as number);
      }
    }
    return dataStart + end;
  } catch {
    return -1; // not JSON: parseHeader says so
  }
}

/** The header of a remote file: from the cache, else two range requests. */
async function fetchHeader(
  o: RemoteFileOptions,
): Promise<{ header: SafetensorsHeader; meta: RemoteFileMeta }> {
  const { client, cache, ctx, url } = o;
  const file = ctx.file;
  let meta = await cache.readMeta(file);
  let prefix = meta === null ? null : await cache.readRange(file, 0, 8);
  const prefixFetched = meta === null || prefix === null;
  if (meta === null || prefix === null) {
    const got = await client.getRange(url, { start: 0, end: 8 }, ctx);
    meta = { size: got.total, etag: got.etag };
    prefix = got.bytes;
  }
  let n: number;
  try {
    n = headerLengthFrom(prefix, meta.size, url);
  } catch (e) {
    if (e instanceof SafetensorsError && e.code === "truncated") {
      throw new HubError("truncated", e.message);
    }
    throw e;
  }
  let headerBytes = await cache.readRange(file, 8, 8 + n);
  const headerFetched = headerBytes === null;
  if (headerBytes === null) {
    headerBytes = (await client.getRange(url, { start: 8, end: 8 + n }, ctx, {
      expected: { total: meta.size, etag: meta.etag },
    })).bytes;
  }
  const end = describedEnd(headerBytes, 8 + n);
  if (end >= 0 && end !== meta.size) {
    throw new HubError(
      "truncated",
      `${url}: its header describes a file of ${end} bytes but the server holds ${meta.size} (Content-Range); the file is truncated or changed`,
    );
  }
  const header = parseHeader(headerBytes, 8 + n, meta.size, url);
  // Cached only once valid, so a bad file is asked for again next time;
  // what came from the cache is not written again.
  if (prefixFetched) {
    await cache.writeMeta(file, meta);
    await cache.writeRange(file, 0, prefix);
  }
  if (headerFetched) await cache.writeRange(file, 8, headerBytes);
  return { header, meta };
}

/** Fetches `[start, end)` of the file into the cache, chunk by chunk. */
async function fetchRange(
  o: RemoteFileOptions,
  meta: RemoteFileMeta,
  range: { start: number; end: number; tensor: string },
): Promise<void> {
  const { start, end, tensor } = range;
  const target = o.cache.rangePath(o.ctx.file, start, end);
  await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
    recursive: true,
  });
  const part = pendingFile(target);
  const out = await Deno.open(part.tempPath, {
    write: true,
    createNew: true,
  });
  const chunk = o.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  try {
    let done = 0;
    o.onProgress?.({ tensor, done, total: end - start });
    for (let at = start; at < end; at += chunk) {
      const to = Math.min(end, at + chunk);
      const pending: Uint8Array[] = [];
      await o.client.getRange(o.url, { start: at, end: to }, o.ctx, {
        expected: { total: meta.size, etag: meta.etag },
        sink: (c) => pending.push(c.slice()),
      });
      for (const c of pending) {
        for (let w = 0; w < c.length;) w += await out.write(c.subarray(w));
        done += c.length;
      }
      o.onProgress?.({ tensor, done, total: end - start });
    }
    out.close();
    await part.commit();
  } catch (e) {
    try {
      out.close();
    } catch { /* already closed */ }
    await part.discard();
    throw e;
  }
}

/** Fills `into` from `position` of the cached range `fd`. */
function readFullySync(
  fd: number,
  into: Uint8Array,
  position: number,
  path: string,
): Uint8Array {
  if (readAtSync(fd, position, into) < into.length) throw shortRange(path);
  return into;
}

/** {@linkcode readFullySync}, without blocking. */
async function readFully(
  fd: number,
  into: Uint8Array,
  position: number,
  path: string,
): Promise<Uint8Array> {
  if (await readAt(fd, position, into) < into.length) throw shortRange(path);
  return into;
}

function shortRange(path: string): SafetensorsError {
  return new SafetensorsError("truncated", path, "its cached range is short");
}

/**
 * Opens a safetensors file on the hub: reads (or takes from the cache) its
 * header and checks it against the size the server reports. No tensor data
 * is fetched until {@linkcode RemoteSafetensorsFile.fetchTensors}.
 */
export async function openRemoteSafetensors(
  options: RemoteFileOptions,
): Promise<RemoteSafetensorsFile> {
  const { header, meta } = await fetchHeader(options);
  const fds = new Map<string, number>(); // tensor -> cached range, open
  let closed = false;
  const path = options.url;

  const inflight = new Map<string, Promise<void>>();
  const openTensor = async (name: string): Promise<void> => {
    const info = lookup(header, name);
    const start = info.byteOffset;
    const end = start + info.byteLength;
    const { cache, ctx } = options;
    if (!await cache.hasRange(ctx.file, start, end)) {
      await fetchRange(options, meta, { start, end, tensor: name });
    }
    if (closed) throw new SafetensorsError("io", path, "file is closed");
    fds.set(name, openSync(cache.rangePath(ctx.file, start, end), "r"));
  };
  const fdOf = (name: string): { fd: number; base: number } => {
    if (closed) throw new SafetensorsError("io", path, "file is closed");
    const info = lookup(header, name);
    const fd = fds.get(name);
    if (fd === undefined) {
      throw new SafetensorsError(
        "io",
        path,
        `tensor "${name}" was not fetched from the hub (fetchTensors first)`,
      );
    }
    return { fd, base: info.byteOffset };
  };
  const readRowsSync: SafetensorsFile["readRowsSync"] = (
    name,
    start,
    count,
    opts = {},
  ) => {
    const { fd, base } = fdOf(name);
    const { offset, into } = rowReadPlan(header, name, start, count, opts);
    return readFullySync(fd, into, offset - base, path);
  };
  const readRows: SafetensorsFile["readRows"] = async (
    name,
    start,
    count,
    opts = {},
  ) => {
    if (!fds.has(name)) await file.fetchTensors([name]);
    const { fd, base } = fdOf(name);
    const { offset, into } = rowReadPlan(header, name, start, count, opts);
    return await readFully(fd, into, offset - base, path);
  };
  const file: RemoteSafetensorsFile = {
    ...header,
    names: () => [...header.tensors.keys()],
    tensor: (name) => lookup(header, name),
    async readTensorBytes(name) {
      await file.fetchTensors([name]);
      const { fd } = fdOf(name);
      return readFullySync(
        fd,
        new Uint8Array(lookup(header, name).byteLength),
        0,
        path,
      );
    },
    readRows,
    readRowsSync,
    rowBlocks: (name, opts = {}) =>
      streamRowBlocks(header, name, opts, readRows),
    async fetchTensors(names) {
      for (const name of names) {
        if (fds.has(name)) continue;
        let pending = inflight.get(name);
        if (pending === undefined) {
          pending = openTensor(name).finally(() => inflight.delete(name));
          inflight.set(name, pending);
        }
        await pending;
      }
    },
    close() {
      closed = true;
      for (const fd of fds.values()) closeSync(fd);
      fds.clear();
    },
  };
  return file;
}
