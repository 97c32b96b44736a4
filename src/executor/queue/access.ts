/**
 * Where the queue's address and secrets come from, so that no password ever
 * has to be typed on a command line (where `ps`, shell history and CI logs
 * show it): the URL from `--queue` or `HORIZON_QUEUE_URL` (the whole URL,
 * password included), the password from a file named by
 * `--queue-password-file` or `HORIZON_QUEUE_PASSWORD`, a private CA from
 * `--queue-ca` or `HORIZON_QUEUE_CA`. A password inside `--queue` itself is
 * refused. Every mistake is a one-line {@link RedisUrlError} (exit 2 in the
 * CLIs) that names the flag or variable and never the password.
 *
 * @module
 */

import {
  parseRedisUrl,
  QueueSecret,
  type RedisTarget,
  RedisUrlError,
} from "./connection.ts";

/** The variable holding the whole queue URL (used when `--queue` is absent). */
export const QUEUE_URL_ENV = "HORIZON_QUEUE_URL";
/** The variable holding the queue's password. */
export const QUEUE_PASSWORD_ENV = "HORIZON_QUEUE_PASSWORD";
/** The variable naming a PEM file of the CA that signed the server's certificate. */
export const QUEUE_CA_ENV = "HORIZON_QUEUE_CA";

/** The queue flags of a command line. */
export interface QueueFlags {
  /** `--queue URL` (no password in it). */
  readonly queue?: string;
  /** `--queue-password-file FILE`. */
  readonly passwordFile?: string;
  /** `--queue-ca FILE`. */
  readonly caFile?: string;
}

/** How environment variables are read (tests pass a map). */
export type EnvReader = (name: string) => string | undefined;

const SECRET_HELP =
  `put it in ${QUEUE_PASSWORD_ENV}, in ${QUEUE_URL_ENV}, or in a file named by --queue-password-file`;

/**
 * The queue target the flags and the environment name, with its password
 * and CA read; undefined when neither `--queue` nor `HORIZON_QUEUE_URL` is
 * set (and no other queue flag is given). The password comes from
 * `--queue-password-file`, else `HORIZON_QUEUE_PASSWORD`, else the
 * `HORIZON_QUEUE_URL` itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveQueueTarget } from "./access.ts";
 * const env = new Map([["HORIZON_QUEUE_PASSWORD", "s3cret"]]);
 * const t = await resolveQueueTarget(
 *   { queue: "rediss://worker@q.lan:6380" },
 *   (name) => env.get(name),
 * );
 * assert.equal(t?.url, "rediss://worker@q.lan:6380");
 * assert.equal(t?.password?.reveal(), "s3cret");
 * assert.equal(String(t?.password), "***");
 * ```
 */
export async function resolveQueueTarget(
  flags: QueueFlags,
  env: EnvReader = (name) => Deno.env.get(name),
): Promise<RedisTarget | undefined> {
  const envUrl = env(QUEUE_URL_ENV) || undefined;
  const text = flags.queue ?? envUrl;
  if (text === undefined) {
    const stray = flags.passwordFile !== undefined
      ? "--queue-password-file"
      : flags.caFile !== undefined
      ? "--queue-ca"
      : null;
    if (stray) {
      throw new RedisUrlError(
        `${stray} needs a queue: --queue URL or ${QUEUE_URL_ENV}`,
      );
    }
    return undefined;
  }
  const source = flags.queue !== undefined ? "--queue" : QUEUE_URL_ENV;
  let target: RedisTarget;
  try {
    target = parseRedisUrl(text);
  } catch (e) {
    if (flags.queue !== undefined) throw e;
    throw new RedisUrlError(`${QUEUE_URL_ENV}: ${(e as Error).message}`);
  }
  if (flags.queue !== undefined && target.password) {
    throw new RedisUrlError(
      `--queue ${target.url}: a password on the command line is visible to every user of this machine (ps, shell history); ${SECRET_HELP}`,
    );
  }
  const password = flags.passwordFile !== undefined
    ? await readPassword(flags.passwordFile)
    : env(QUEUE_PASSWORD_ENV)
    ? new QueueSecret(env(QUEUE_PASSWORD_ENV)!)
    : target.password;
  if (target.username !== undefined && !password) {
    throw new RedisUrlError(
      `${source} ${target.url}: user ${
        JSON.stringify(target.username)
      } needs a password; ${SECRET_HELP}`,
    );
  }
  const caFlag = flags.caFile !== undefined ? "--queue-ca" : QUEUE_CA_ENV;
  const caFile = flags.caFile ?? (env(QUEUE_CA_ENV) || undefined);
  if (caFile !== undefined && !target.tls) {
    throw new RedisUrlError(
      `${caFlag} is for TLS queues, but ${target.url} is plaintext (rediss:// is TLS)`,
    );
  }
  const ca = caFile === undefined ? undefined : await readCa(caFile, caFlag);
  return {
    ...target,
    ...(password ? { password } : {}),
    ...(ca !== undefined ? { ca } : {}),
  };
}

/** The password in `path`: its one line (a final newline dropped). */
async function readPassword(path: string): Promise<QueueSecret> {
  const where = `--queue-password-file ${JSON.stringify(path)}`;
  const text = await readText(path, where);
  const value = text.replace(/\r?\n$/, "");
  if (value === "") throw new RedisUrlError(`${where}: the file is empty`);
  if (/[\r\n]/.test(value)) {
    throw new RedisUrlError(
      `${where}: the file must hold the password alone, on one line`,
    );
  }
  return new QueueSecret(value);
}

async function readCa(path: string, flag: string): Promise<string> {
  const where = `${flag} ${JSON.stringify(path)}`;
  const text = await readText(path, where);
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new RedisUrlError(`${where}: not a PEM certificate file`);
  }
  return text;
}

async function readText(path: string, where: string): Promise<string> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new RedisUrlError(`${where}: not a file`);
    if (info.size > 1 << 20) {
      throw new RedisUrlError(`${where}: over 1 MiB, not a password or CA`);
    }
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof RedisUrlError) throw e;
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : String((e as Error).message).replace(/\s*\n\s*/g, " ");
    throw new RedisUrlError(`${where}: cannot read it (${why})`);
  }
}
