/**
 * HTTP access to a Hugging Face hub (or a mirror) with plain `fetch`: the
 * model API's file listing, whole small files, and byte ranges of large ones.
 *
 * Every answer is checked before its bytes are used: a range request
 * answered with the whole file (HTTP 200) is aborted without reading the
 * body, a range whose `Content-Range` total or ETag differs from the first
 * answer is a changed file, a body that ends early is a truncated one. The
 * token travels only in the `Authorization` header and never in a message.
 *
 * @module
 */

import { HubError } from "./hub_error.ts";

/** Options of {@linkcode HubClient}. */
interface HubClientOptions {
  /** The hub, e.g. `https://huggingface.co` (no trailing slash needed). */
  endpoint: string;
  /** Access token for gated or private repos (sent as `Bearer`). */
  token?: string;
  /** Give up when no byte arrives for this long; default 30 000 ms. */
  idleTimeoutMs?: number;
}

/** What a request is about, for the messages of its failures. */
export interface RequestContext {
  /** `org/name`. */
  repo: string;
  /** The revision asked for. */
  revision: string;
  /** The file, for file requests. */
  file?: string;
}

/** What the first answer about a file said, to check later ones against. */
interface Expected {
  /** Total size of the file. */
  total?: number;
  /** Its ETag. */
  etag?: string | null;
}

/** A range answer's facts, see {@linkcode HubClient.getRange}. */
interface RangeAnswer {
  /** Total size of the file (from `Content-Range`). */
  total: number;
  /** The ETag sent, if any. */
  etag: string | null;
}

/** The model API's answer, reduced to what the census needs. */
interface ModelListing {
  /** The commit the revision resolved to (`null`: not given or not a sha). */
  sha: string | null;
  /** `rfilename` of every sibling. */
  files: string[];
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** A sha the cache may use as a folder name. */
const SHA = /^[0-9a-f]{7,64}$/;

/**
 * A client of one hub endpoint that counts the bytes and requests it makes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HubClient } from "./client.ts";
 * const client = new HubClient({ endpoint: "https://huggingface.co/" });
 * assert.equal(
 *   client.fileUrl("Qwen/Qwen2.5-3B", "refs/pr/1", "model.safetensors"),
 *   "https://huggingface.co/Qwen/Qwen2.5-3B/resolve/refs%2Fpr%2F1/model.safetensors",
 * );
 * ```
 */
export class HubClient {
  /** The endpoint, without a trailing slash. */
  readonly endpoint: string;
  /** Body bytes received so far. */
  bytes = 0;
  /** Requests sent so far. */
  requests = 0;
  readonly #token: string | undefined;
  readonly #idleMs: number;

  /** A client of `options.endpoint`; nothing is sent yet. */
  constructor(options: HubClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#token = options.token || undefined;
    this.#idleMs = options.idleTimeoutMs ?? 30_000;
  }

  /** The `resolve` URL of `file` at `revision`. */
  fileUrl(repo: string, revision: string, file: string): string {
    return `${this.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${
      file.split("/").map(encodeURIComponent).join("/")
    }`;
  }

  /** Files and commit of `repo` at `revision` (`GET /api/models/{repo}/revision/{rev}`). */
  async modelInfo(repo: string, revision: string): Promise<ModelListing> {
    const ctx = { repo, revision };
    const url = `${this.endpoint}/api/models/${repo}/revision/${
      encodeURIComponent(revision)
    }`;
    const body = await this.getWhole(url, ctx);
    let json: { sha?: unknown; siblings?: unknown };
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new HubError("remote", `${url}: the answer is not JSON`);
    }
    const siblings = Array.isArray(json?.siblings) ? json.siblings : null;
    const files = siblings?.map((s) =>
      (s as { rfilename?: unknown })?.rfilename
    )
      .filter((f): f is string => typeof f === "string");
    if (files === undefined) {
      throw new HubError(
        "remote",
        `${url}: the answer has no "siblings" list of files`,
      );
    }
    const sha = typeof json.sha === "string" && SHA.test(json.sha)
      ? json.sha
      : null;
    return { sha, files };
  }

  /** The whole body of `url` (for small files: listings, tokenizer, index). */
  async getWhole(url: string, ctx: RequestContext): Promise<Uint8Array> {
    const { response, idle } = await this.#send(url, {}, ctx);
    try {
      if (response.status !== 200) {
        throw statusError(response, ctx, url, this.#token !== undefined);
      }
      const length = response.headers.get("content-length");
      const body = await this.#readBody(response, idle, url, null);
      if (
        length !== null && /^\d+$/.test(length) &&
        Number(length) !== body.length
      ) {
        throw truncatedBody(url, body.length, Number(length));
      }
      return body;
    } finally {
      idle.stop();
      await response.body?.cancel().catch(() => {});
    }
  }

  /**
   * Bytes `[start, end)` of `url`, checked against `expected`; each chunk
   * goes to `sink` when given (then nothing is kept and `bytes` is empty).
   */
  async getRange(
    url: string,
    range: { start: number; end: number },
    ctx: RequestContext,
    options: { expected?: Expected; sink?: (chunk: Uint8Array) => void } = {},
  ): Promise<RangeAnswer & { bytes: Uint8Array }> {
    const { start, end } = range;
    const { response, idle } = await this.#send(url, {
      Range: `bytes=${start}-${end - 1}`,
    }, ctx);
    try {
      const answer = checkRangeAnswer(response, url, range, {
        ctx,
        expected: options.expected ?? {},
        hasToken: this.#token !== undefined,
      });
      const body = await this.#readBody(response, idle, url, {
        length: end - start,
        sink: options.sink,
      });
      return { ...answer, bytes: body };
    } finally {
      idle.stop();
      // An unread body (a refused 200, an error) is dropped, not downloaded.
      await response.body?.cancel().catch(() => {});
    }
  }

  async #send(
    url: string,
    headers: Record<string, string>,
    ctx: RequestContext,
  ): Promise<{ response: Response; idle: IdleTimer }> {
    const idle = new IdleTimer(this.#idleMs);
    const all: Record<string, string> = { ...headers };
    if (this.#token !== undefined) all.Authorization = `Bearer ${this.#token}`;
    this.requests++;
    try {
      const response = await fetch(url, { headers: all, signal: idle.signal });
      idle.touch();
      return { response, idle };
    } catch (e) {
      idle.stop();
      throw networkError(this.endpoint, e, idle, ctx);
    }
  }

  /** Reads a body, to `sink` or into memory, at most `expect.length` bytes. */
  async #readBody(
    response: Response,
    idle: IdleTimer,
    url: string,
    expect: { length: number; sink?: (chunk: Uint8Array) => void } | null,
  ): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let got = 0;
    const reader = response.body?.getReader();
    try {
      while (reader !== undefined) {
        const { done, value } = await reader.read();
        if (done) break;
        idle.touch();
        got += value.length;
        this.bytes += value.length;
        if (expect !== null && got > expect.length) {
          throw new HubError(
            "remote",
            `${url}: the server sent more than the ${expect.length} bytes asked for`,
          );
        }
        if (expect?.sink !== undefined) expect.sink(value);
        else chunks.push(value);
      }
    } catch (e) {
      if (e instanceof HubError) throw e;
      throw idle.fired
        ? new HubError(
          "network",
          `${url}: no data for ${idle.ms / 1000} s after ${got} bytes`,
        )
        : truncatedBody(url, got, expect?.length ?? null);
    } finally {
      reader?.releaseLock();
    }
    if (expect !== null && got < expect.length) {
      throw truncatedBody(url, got, expect.length);
    }
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(got);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** An abort signal that fires when `touch()` was not called for `ms`. */
class IdleTimer {
  readonly ms: number;
  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  fired = false;

  constructor(ms: number) {
    this.ms = ms;
    this.touch();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  touch(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.fired = true;
      this.#controller.abort();
    }, this.ms);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

function truncatedBody(
  url: string,
  got: number,
  expected: number | null,
): HubError {
  return new HubError(
    "truncated",
    `${url}: the transfer ended after ${got}${
      expected === null ? "" : ` of ${expected}`
    } bytes (connection dropped or file truncated)`,
  );
}

function networkError(
  endpoint: string,
  e: unknown,
  idle: IdleTimer,
  ctx: RequestContext,
): HubError {
  const what = ctx.file ?? `${ctx.repo}@${ctx.revision}`;
  if (idle.fired) {
    return new HubError(
      "network",
      `no answer from ${endpoint} for ${idle.ms / 1000} s (reading ${what})`,
    );
  }
  const reason = (e as Error)?.message?.split("\n")[0] ?? String(e);
  return new HubError(
    "network",
    `cannot reach ${endpoint} (${reason}); check the network, or HF_ENDPOINT for a mirror`,
  );
}

/** Checks a range answer's status, `Content-Range` and ETag. */
function checkRangeAnswer(
  response: Response,
  url: string,
  range: { start: number; end: number },
  check: { ctx: RequestContext; expected: Expected; hasToken: boolean },
): RangeAnswer {
  if (response.status === 200) {
    throw new HubError(
      "no-range",
      `${url}: the server does not support range requests (HTTP 200 with the whole file); refusing to download it`,
    );
  }
  if (response.status === 416) {
    throw new HubError(
      "truncated",
      `${url}: bytes ${range.start}-${
        range.end - 1
      } are past the end of the file (HTTP 416; truncated file?)`,
    );
  }
  if (response.status !== 206) {
    throw statusError(response, check.ctx, url, check.hasToken);
  }
  const header = response.headers.get("content-range") ?? "";
  const m = CONTENT_RANGE.exec(header.trim());
  if (
    m === null || m[3] === "*" || Number(m[1]) !== range.start ||
    Number(m[2]) !== range.end - 1
  ) {
    throw new HubError(
      "remote",
      `${url}: asked for bytes ${range.start}-${
        range.end - 1
      }, got Content-Range "${header}"`,
    );
  }
  const total = Number(m[3]);
  const etag = response.headers.get("etag");
  const { expected } = check;
  if (expected.total !== undefined && total !== expected.total) {
    throw new HubError(
      "changed",
      `${url} changed while being read: its size went from ${expected.total} to ${total} bytes`,
    );
  }
  if (
    expected.etag !== undefined && expected.etag !== null && etag !== null &&
    etag !== expected.etag
  ) {
    throw new HubError(
      "changed",
      `${url} changed while being read: its ETag went from ${expected.etag} to ${etag}`,
    );
  }
  return { total, etag };
}

/** The one-line error of an HTTP failure status. */
function statusError(
  response: Response,
  ctx: RequestContext,
  url: string,
  hasToken: boolean,
): HubError {
  const status = response.status;
  const code = response.headers.get("x-error-code") ?? "";
  const at = `${ctx.repo}@${ctx.revision}`;
  const tokenHint = hasToken
    ? "the token in HF_TOKEN was refused or lacks access; check it, and accept the model's terms on its hub page with the token's account"
    : "set HF_TOKEN to an access token (https://huggingface.co/settings/tokens) of an account that accepted the model's terms";
  if (status === 401 && code === "RepoNotFound") {
    return new HubError(
      "not-found",
      `no model repo ${ctx.repo} on ${
        new URL(url).origin
      } (HTTP 401: missing, or private: ${tokenHint})`,
    );
  }
  if (status === 401 || status === 403) {
    return new HubError(
      "unauthorized",
      `${at} is gated or private (HTTP ${status}${
        ctx.file === undefined ? "" : ` for ${ctx.file}`
      }): ${tokenHint}`,
    );
  }
  if (status === 404) {
    const what = code === "RevisionNotFound"
      ? `no revision "${ctx.revision}" in ${ctx.repo}`
      : code === "EntryNotFound" && ctx.file !== undefined
      ? `no file ${ctx.file} in ${at}`
      : `no model repo ${ctx.repo} with revision "${ctx.revision}"`;
    return new HubError(
      "not-found",
      `${what} on ${new URL(url).origin} (HTTP 404)`,
    );
  }
  return new HubError(
    "remote",
    `${new URL(url).origin} answered HTTP ${status} for ${url}`,
  );
}
