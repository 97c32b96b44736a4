/**
 * Where the run queue lives: `redis://HOST[:PORT][/DB]` URLs, a quick check
 * that a Redis server answers there (so a wrong address is one clear line,
 * not an endless reconnect loop with stack traces), and the connection
 * options BullMQ gets.
 *
 * @module
 */

import type { ConnectionOptions } from "bullmq";

/** A Redis server and database, parsed from a `redis://` URL. */
export interface RedisTarget {
  /** The URL as given. */
  readonly url: string;
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** Database number (default 0). */
  readonly db: number;
}

/** A queue URL that is not `redis://HOST[:PORT][/DB]`. */
export class RedisUrlError extends Error {
  override name = "RedisUrlError";
}

/** No Redis server answers at a queue URL. */
export class RedisConnectError extends Error {
  override name = "RedisConnectError";
}

/** Redis's default port. */
export const DEFAULT_REDIS_PORT = 6379;

/**
 * Parses `redis://HOST[:PORT][/DB]` (port 6379 and database 0 by default).
 * Anything else (another scheme, credentials, a query, a database that is
 * not a plain integer) throws a one-line {@link RedisUrlError} naming the URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedisUrl } from "./connection.ts";
 * assert.deepEqual(parseRedisUrl("redis://10.0.0.5:6380/2"), {
 *   url: "redis://10.0.0.5:6380/2", host: "10.0.0.5", port: 6380, db: 2,
 * });
 * ```
 */
export function parseRedisUrl(url: string): RedisTarget {
  const bad = (problem: string): never => {
    throw new RedisUrlError(
      `invalid queue URL ${
        JSON.stringify(url)
      }: ${problem} (expected redis://HOST[:PORT][/DB])`,
    );
  };
  if (!/^redis:\/\//i.test(url)) bad("it must start with redis://");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad("not a URL");
  }
  if (u.username || u.password) bad("credentials are not supported");
  if (u.search || u.hash) bad("no query or fragment is allowed");
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) bad("no host");
  const port = u.port === "" ? DEFAULT_REDIS_PORT : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad("bad port");
  const path = u.pathname.replace(/^\//, "");
  if (path !== "" && !/^[0-9]{1,5}$/.test(path)) {
    bad(`the database must be a number, got ${JSON.stringify(path)}`);
  }
  return { url, host, port, db: path === "" ? 0 : Number(path) };
}

/** The BullMQ (ioredis) connection options of a target. */
export function connectionOptions(target: RedisTarget): ConnectionOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    // Required by BullMQ workers; commands wait for a reconnect instead of
    // failing after a few retries.
    maxRetriesPerRequest: null,
  };
}

/**
 * Checks that a Redis server answers PING at `target` (and that the
 * database can be selected) within `timeoutMs`, throwing a one-line
 * {@link RedisConnectError} such as `cannot reach the queue at
 * redis://127.0.0.1:6390: connection refused (is redis-server running
 * there?)`.
 */
export async function checkRedis(
  target: RedisTarget,
  timeoutMs = 5000,
): Promise<void> {
  const fail = (problem: string): never => {
    throw new RedisConnectError(
      `cannot reach the queue at ${target.url}: ${problem}`,
    );
  };
  const deadline = Date.now() + timeoutMs;
  let conn: Deno.TcpConn;
  try {
    conn = await beforeDeadline(
      Deno.connect({ hostname: target.host, port: target.port }),
      deadline,
      (late) => late.close(),
    );
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) {
      return fail("connection refused (is redis-server running there?)");
    }
    return fail(errorText(e));
  }
  let reply: string[];
  try {
    const db = String(target.db);
    const commands =
      `*1\r\n$4\r\nPING\r\n*2\r\n$6\r\nSELECT\r\n$${db.length}\r\n${db}\r\n`;
    await beforeDeadline(
      conn.write(new TextEncoder().encode(commands)),
      deadline,
    );
    reply = await beforeDeadline(readLines(conn, 2), deadline);
  } catch (e) {
    return fail(errorText(e));
  } finally {
    conn.close();
  }
  const [ping = "", select = ""] = reply;
  if (ping.startsWith("-NOAUTH")) {
    fail("the server wants a password (not supported)");
  }
  if (!ping.startsWith("+PONG")) {
    fail(
      `the server there does not answer like Redis (${
        JSON.stringify(ping.slice(0, 60) || "no reply")
      })`,
    );
  }
  if (!select.startsWith("+OK")) {
    fail(
      `database ${target.db} cannot be selected (${
        select.slice(0, 80) || "no reply"
      })`,
    );
  }
}

function errorText(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, " ")
    .replace(/\s*\(os error \d+\)$/, "");
}

/**
 * `promise`, or a rejection once `deadline` (ms since the epoch) has passed
 * on two checks 100 ms apart (so an event loop that was busy gets to read a
 * reply that has arrived); a value that arrives late goes to `onLate` (to
 * close it).
 */
async function beforeDeadline<T>(
  promise: Promise<T>,
  deadline: number,
  onLate?: (value: T) => void,
): Promise<T> {
  let timer: ReturnType<typeof setInterval> | undefined;
  let late = false;
  const timeout = new Promise<never>((_, reject) => {
    let past = 0;
    timer = setInterval(() => {
      if (Date.now() >= deadline && ++past >= 2) {
        late = true;
        reject(new Error("no answer (timed out)"));
      }
    }, 100);
  });
  promise.then((v) => {
    if (late) onLate?.(v);
  }, () => {});
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearInterval(timer);
  }
}

/** Reads `n` CRLF-terminated lines (simple replies) from a connection. */
async function readLines(conn: Deno.Conn, n: number): Promise<string[]> {
  const dec = new TextDecoder();
  const buf = new Uint8Array(4096);
  let text = "";
  while (text.split("\r\n").length <= n && text.length < 65536) {
    const got = await conn.read(buf);
    if (got === null) break;
    text += dec.decode(buf.subarray(0, got), { stream: true });
  }
  return text.split("\r\n").slice(0, n);
}
