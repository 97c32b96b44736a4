/**
 * A hub-shaped HTTP server for tests, on 127.0.0.1 (a free port): the model
 * API's listing (`/api/models/{repo}/revision/{rev}`) and `resolve` URLs
 * with range requests, as the Hugging Face hub answers them (206 with
 * `Content-Range`, an ETag, `X-Error-Code` on errors). Faults a test can
 * switch on: a gated repo (401/403), no range support (200 with the whole
 * file), a truncated file, an ETag that changes on every answer. It counts
 * the body bytes it sends, so tests can assert what a census fetched.
 * Files are bytes in memory or, for models too large to hold there (the
 * census benchmark's), {@linkcode DiskFile}s read at each request.
 *
 * @module
 */

/** A file served from disk, read at each request. */
export interface DiskFile {
  /** Where it lies. */
  path: string;
  /** Its length in bytes. */
  size: number;
}

/** A file of the served repo: its bytes, or where they lie on disk. */
export type HubFile = Uint8Array | DiskFile;

function sizeOf(file: HubFile): number {
  return file instanceof Uint8Array ? file.length : file.size;
}

/** Bytes per read of a {@linkcode DiskFile}. */
const DISK_CHUNK = 1 << 20;

/** Failures the server can be told to show. */
interface HubServerFaults {
  /** Files need `Authorization: Bearer <token>` (401 without, 403 with another). */
  gatedToken?: string;
  /** Range headers are ignored: every file is a 200 with the whole body. */
  noRange?: boolean;
  /** These files lose their last `bytes` bytes (their size says so too). */
  truncate?: { file: string; bytes: number };
  /** A new ETag on every answer, as if the file changed between requests. */
  changingEtag?: boolean;
}

/** What the server sent so far. */
export interface HubServerStats {
  /** Requests answered. */
  requests: number;
  /** Body bytes of `resolve` answers (file data). */
  fileBytes: number;
  /** Body bytes of API answers (listings). */
  apiBytes: number;
  /** `METHOD path Range` of every request, in order. */
  log: string[];
}

/** A running test hub; `close()` it. */
export interface TestHubServer {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** The commit sha the repo's `main` points at. */
  sha: string;
  /** Counters since the last {@linkcode TestHubServer.reset}. */
  stats: HubServerStats;
  /** The faults in force (change them between censuses). */
  faults: HubServerFaults;
  /** Zeroes the counters. */
  reset(): void;
  /** Stops the server. */
  close(): Promise<void>;
}

function errorAnswer(status: number, code: string): Response {
  return new Response(JSON.stringify({ error: code }), {
    status,
    headers: { "content-type": "application/json", "x-error-code": code },
  });
}

/** What the server serves and what it has counted. */
interface ServedRepo {
  repo: string;
  files: Readonly<Record<string, HubFile>>;
  sha: string;
  /** `main` and the sha. */
  revisions: ReadonlySet<string>;
  stats: HubServerStats;
  faults: HubServerFaults;
  /** Answers so far with {@linkcode HubServerFaults.changingEtag} on. */
  etags: number;
}

/**
 * Bytes `[start, end)` of `file` as a body, counted in `stats` as the
 * client pulls them: a body the client cancels is not.
 */
function countedBody(
  file: HubFile,
  range: { start: number; end: number },
  stats: HubServerStats,
): ReadableStream<Uint8Array> {
  const { end } = range;
  let at = range.start;
  let disk: Deno.FsFile | null = null;
  const closeDisk = () => {
    disk?.close();
    disk = null;
  };
  /** The next chunk of a {@linkcode DiskFile}; `null` once the stream is errored. */
  const diskChunk = async (
    path: string,
    controller: ReadableStreamDefaultController<Uint8Array>,
  ): Promise<Uint8Array | null> => {
    if (disk === null) {
      disk = await Deno.open(path);
      await disk.seek(at, Deno.SeekMode.Start);
    }
    const buf = new Uint8Array(Math.min(end - at, DISK_CHUNK));
    const n = await disk.read(buf);
    if (n === null) {
      closeDisk();
      controller.error(new Error(`${path} ended early`));
      return null;
    }
    return buf.subarray(0, n);
  };
  return new ReadableStream({
    async pull(controller) {
      if (at >= end) {
        closeDisk();
        return controller.close();
      }
      const chunk = file instanceof Uint8Array
        ? file.slice(at, Math.min(end, at + (64 << 10)))
        : await diskChunk(file.path, controller);
      if (chunk === null) return;
      at += chunk.length;
      stats.fileBytes += chunk.length;
      controller.enqueue(chunk);
    },
    cancel: closeDisk,
  });
}

/** A `resolve` answer: the whole file, a 206 range, or the fault in force. */
function serveFile(served: ServedRepo, req: Request, file: string): Response {
  const { faults, stats } = served;
  const body = served.files[file];
  if (body === undefined) return errorAnswer(404, "EntryNotFound");
  const auth = req.headers.get("authorization");
  if (
    faults.gatedToken !== undefined && auth !== `Bearer ${faults.gatedToken}`
  ) {
    return errorAnswer(auth === null ? 401 : 403, "GatedRepo");
  }
  const size = sizeOf(body) -
    (faults.truncate?.file === file ? faults.truncate.bytes : 0);
  const etag = faults.changingEtag
    ? `"v${served.etags++}"`
    : `"${file}-${size}"`;
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "");
  if (range === null || faults.noRange) {
    return new Response(countedBody(body, { start: 0, end: size }, stats), {
      headers: { etag, "accept-ranges": "bytes" },
    });
  }
  const start = Number(range[1]);
  const end = Math.min(Number(range[2]), size - 1);
  if (start >= size) {
    return new Response(null, {
      status: 416,
      headers: { "content-range": `bytes */${size}` },
    });
  }
  return new Response(countedBody(body, { start, end: end + 1 }, stats), {
    status: 206,
    headers: {
      etag,
      "accept-ranges": "bytes",
      "content-range": `bytes ${start}-${end}/${size}`,
    },
  });
}

/**
 * The model API's answer for `revision` (as in the URL) of `repo`: the sha
 * and the file names.
 */
function serveListing(
  served: ServedRepo,
  repo: string,
  revision: string,
): Response {
  if (repo !== served.repo) return errorAnswer(404, "RepoNotFound");
  if (!served.revisions.has(decodeURIComponent(revision))) {
    return errorAnswer(404, "RevisionNotFound");
  }
  const body = JSON.stringify({
    id: served.repo,
    sha: served.sha,
    siblings: Object.keys(served.files).map((rfilename) => ({ rfilename })),
  });
  served.stats.apiBytes += new TextEncoder().encode(body).length;
  return new Response(body, {
    headers: { "content-type": "application/json" },
  });
}

/** Logs `req` and routes it to the listing or a file. */
function handle(served: ServedRepo, req: Request): Response {
  const { stats } = served;
  stats.requests++;
  const raw = new URL(req.url).pathname;
  stats.log.push(
    `${req.method} ${raw} ${req.headers.get("range") ?? ""}`.trim(),
  );
  const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(raw);
  if (api !== null) {
    return serveListing(served, api[1], api[2]);
  }
  const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(raw);
  if (resolve === null || resolve[1] !== served.repo) {
    return errorAnswer(404, "RepoNotFound");
  }
  if (!served.revisions.has(decodeURIComponent(resolve[2]))) {
    return errorAnswer(404, "RevisionNotFound");
  }
  return serveFile(served, req, decodeURIComponent(resolve[3]));
}

/**
 * Serves the model repo `repo` (`org/name`) holding `files` at commit `sha`
 * (revisions `main` and `sha`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startTestHubServer } from "./test_hub_server.ts";
 * const hub = await startTestHubServer("org/model", {
 *   "config.json": new TextEncoder().encode("{}"),
 * });
 * try {
 *   const res = await fetch(`${hub.endpoint}/org/model/resolve/main/config.json`, {
 *     headers: { range: "bytes=0-0" },
 *   });
 *   assert.equal(res.status, 206);
 *   assert.equal(await res.text(), "{");
 *   assert.equal(hub.stats.fileBytes, 1);
 * } finally {
 *   await hub.close();
 * }
 * ```
 */
export function startTestHubServer(
  repo: string,
  files: Readonly<Record<string, HubFile>>,
  sha = "0123456789abcdef0123456789abcdef01234567",
): Promise<TestHubServer> {
  const served: ServedRepo = {
    repo,
    files,
    sha,
    revisions: new Set(["main", sha]),
    stats: { requests: 0, fileBytes: 0, apiBytes: 0, log: [] },
    faults: {},
    etags: 0,
  };
  const { stats, faults } = served;
  return new Promise((resolveStart) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) =>
        resolveStart({
          endpoint: `http://127.0.0.1:${port}`,
          sha,
          stats,
          faults,
          reset() {
            stats.requests = stats.fileBytes = stats.apiBytes = 0;
            stats.log.length = 0;
          },
          close: () => server.shutdown(),
        }),
    }, (req) => handle(served, req));
  });
}
