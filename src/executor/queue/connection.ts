/**
 * Where the run queue lives: `redis://` or `rediss://` (TLS) URLs with an
 * optional ACL user and password, the connection options BullMQ gets, and
 * the URL as it may be shown (password masked). The password is held in a
 * {@link QueueSecret}, which prints as `***` however it is logged, so no
 * message, record or job built from a target can carry it.
 * {@link checkRedis} (`check.ts`) tells whether the server answers there.
 *
 * @module
 */

import type { ConnectionOptions } from "bullmq";

/**
 * A password that never shows: `String()`, JSON and `console.log` give
 * `***`; only {@link QueueSecret.reveal} gives the text (to the connection).
 */
export class QueueSecret {
  readonly #value: string;
  /** Wraps `value`. */
  constructor(value: string) {
    this.#value = value;
  }
  /** The password itself, for the Redis client and `AUTH` only. */
  reveal(): string {
    return this.#value;
  }
  /** `***`. */
  toString(): string {
    return "***";
  }
  /** `***`. */
  toJSON(): string {
    return "***";
  }
  /** `QueueSecret(***)` in `console.log` and `Deno.inspect`. */
  [Symbol.for("Deno.customInspect")](): string {
    return "QueueSecret(***)";
  }
}

/** A Redis server and database, parsed from a `redis://` or `rediss://` URL. */
export interface RedisTarget {
  /** The URL as it may be shown: a password in it replaced by `***`. */
  readonly url: string;
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port (6379 by default). */
  readonly port: number;
  /** Database number (default 0). */
  readonly db: number;
  /** `rediss://`: TLS, with the server's certificate verified. */
  readonly tls: boolean;
  /** ACL user name (Redis 6+); absent: the default user. */
  readonly username?: string;
  /** The password, if any (see `access.ts` for where it comes from). */
  readonly password?: QueueSecret;
  /** PEM certificates of a private CA the server's certificate must chain to. */
  readonly ca?: string;
}

/** A queue URL that is not `redis[s]://[USER[:PASSWORD]@]HOST[:PORT][/DB]`. */
export class RedisUrlError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "RedisUrlError";
}

/** No Redis server answers at a queue URL. */
export class RedisConnectError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "RedisConnectError";
}

/**
 * The server answers but refuses the settings given: a wrong or missing
 * password, a user without a needed permission, TLS asked of a plaintext
 * server (or the reverse), a certificate that does not verify. A mistake in
 * the settings, so CLIs exit 2 on it.
 */
export class RedisAccessError extends RedisConnectError {
  /** Error name, shown in messages and stack traces. */
  override name = "RedisAccessError";
}

/** Redis's default port. */
export const DEFAULT_REDIS_PORT = 6379;

const EXPECTED = "expected redis[s]://[USER@]HOST[:PORT][/DB]";

/**
 * `url` with the password (if any) replaced by `***`, for messages. A text
 * that is not a URL is shown only up to its first `@` (what follows may be
 * a password).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskUrl } from "./connection.ts";
 * assert.equal(maskUrl("rediss://w:s3cret@q.lan:6380/1"), "rediss://w:***@q.lan:6380/1");
 * ```
 */
export function maskUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@(.*)$/is.exec(url);
  if (!m) return url;
  const colon = m[2].indexOf(":");
  return colon < 0 ? url : `${m[1]}${m[2].slice(0, colon)}:***@${m[3]}`;
}

/**
 * Parses `redis[s]://[USER[:PASSWORD]@]HOST[:PORT][/DB]` (port 6379 and
 * database 0 by default; `rediss://` is TLS). Anything else (another scheme,
 * a query, a database that is not a plain integer) throws a one-line
 * {@link RedisUrlError} naming the URL, its password masked. Where a
 * password may come from is `access.ts`'s business.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedisUrl } from "./connection.ts";
 * assert.deepEqual(parseRedisUrl("redis://10.0.0.5:6380/2"), {
 *   url: "redis://10.0.0.5:6380/2", host: "10.0.0.5", port: 6380, db: 2,
 *   tls: false,
 * });
 * ```
 */
export function parseRedisUrl(url: string): RedisTarget {
  const shown = maskUrl(url);
  const bad = (problem: string): never => {
    throw new RedisUrlError(
      `invalid queue URL ${JSON.stringify(shown)}: ${problem} (${EXPECTED})`,
    );
  };
  const scheme = /^(rediss?):\/\//i.exec(url)?.[1].toLowerCase();
  if (!scheme) bad("it must start with redis:// or rediss://");
  let u: URL;
  try {
    // WHATWG URL parsing of an unknown scheme leaves the host alone; parse
    // it as http to get the host and port rules right.
    u = new URL(url.replace(/^rediss?:/i, "http:"));
  } catch {
    return bad("not a URL");
  }
  if (u.search || u.hash) bad("no query or fragment is allowed");
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) bad("no host");
  const explicitPort = /^rediss?:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/]*):(\d*)/i
    .exec(url)?.[1];
  const port = explicitPort === undefined || explicitPort === ""
    ? DEFAULT_REDIS_PORT
    : Number(explicitPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad("bad port");
  const path = u.pathname.replace(/^\//, "");
  if (path !== "" && !/^[0-9]{1,5}$/.test(path)) {
    bad(`the database must be a number, got ${JSON.stringify(path)}`);
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return bad("bad %-escape in the user or password");
    }
  };
  const username = u.username ? decode(u.username) : undefined;
  const password = u.password ? new QueueSecret(decode(u.password)) : undefined;
  return {
    url: shown,
    host,
    port,
    db: path === "" ? 0 : Number(path),
    tls: scheme === "rediss",
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** `target`, or `text` parsed with {@link parseRedisUrl}. */
export function asTarget(target: string | RedisTarget): RedisTarget {
  return typeof target === "string" ? parseRedisUrl(target) : target;
}

/**
 * `text` with the target's password (and its URL-encoded form) replaced by
 * `***`: for messages that come from elsewhere (the Redis client), should
 * one ever quote it.
 */
export function redact(text: string, target: RedisTarget): string {
  const secret = target.password?.reveal();
  if (!secret) return text;
  let out = text;
  for (const form of new Set([secret, encodeURIComponent(secret)])) {
    out = out.split(form).join("***");
  }
  return out;
}

/**
 * The BullMQ (ioredis) connection options of a target: user, password and,
 * for `rediss://`, TLS with the certificate verified against the system's
 * CAs or the target's private CA (never without verification).
 */
export function connectionOptions(target: RedisTarget): ConnectionOptions {
  const isIp = /^[0-9.]+$|:/.test(target.host);
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password ? { password: target.password.reveal() } : {}),
    ...(target.tls
      ? {
        tls: {
          rejectUnauthorized: true,
          ...(target.ca !== undefined ? { ca: target.ca } : {}),
          // Node refuses an IP address as the SNI name; it still checks
          // the IP against the certificate.
          ...(isIp ? {} : { servername: target.host }),
        },
      }
      : {}),
    // Required by BullMQ workers; commands wait for a reconnect instead of
    // failing after a few retries.
    maxRetriesPerRequest: null,
  };
}
