/**
 * A quick look at the queue's server before anything is queued or trained:
 * connect (TLS for `rediss://`, the certificate verified), `AUTH`, `PING`,
 * `SELECT`, over a connection of its own. Every way this can go wrong is one
 * line naming the (masked) URL: no server, not Redis, a wrong or missing
 * password, a user lacking a permission, a certificate that does not verify,
 * TLS asked of a plaintext server and the reverse. Without this check
 * BullMQ's client would retry such a server forever, or hang in a TLS
 * handshake that a plaintext server never answers.
 *
 * @module
 */

import {
  RedisAccessError,
  RedisConnectError,
  type RedisTarget,
} from "./connection.ts";

/**
 * Checks that a Redis server answers at `target` with the target's
 * credentials and TLS within `timeoutMs`, throwing a one-line
 * {@link RedisConnectError} (server unreachable or not Redis) or
 * {@link RedisAccessError} (it refuses these settings), such as `cannot
 * reach the queue at redis://127.0.0.1:6390: connection refused (is
 * redis-server running there?)`.
 */
export async function checkRedis(
  target: RedisTarget,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const conn = await open(target, deadline);
  let reply: string[];
  try {
    const auth = target.password
      ? [
        "AUTH",
        ...(target.username !== undefined ? [target.username] : []),
        target.password.reveal(),
      ]
      : null;
    const commands = [...(auth ? [auth] : []), ["PING"], [
      "SELECT",
      String(target.db),
    ]];
    await beforeDeadline(
      conn.write(new TextEncoder().encode(commands.map(resp).join(""))),
      deadline,
    );
    reply = await beforeDeadline(readLines(conn, commands.length), deadline);
    // Nothing at all: a TLS port dropping a plaintext hello.
    if (reply.join("") === "" && !target.tls) throw wantsTls(target);
    if (!auth) reply.unshift("+OK");
  } catch (e) {
    if (e instanceof RedisAccessError) throw e;
    if (!target.tls && isReset(e)) throw wantsTls(target);
    throw new RedisConnectError(
      `cannot reach the queue at ${target.url}: ${errorText(e)}`,
    );
  } finally {
    conn.close();
  }
  judge(target, reply);
}

/** Throws the error a server's replies to AUTH, PING and SELECT call for. */
function judge(target: RedisTarget, [auth, ping, select]: string[]): void {
  const at = `the queue at ${target.url}`;
  const refused = (problem: string): never => {
    throw new RedisAccessError(`${at} refused the connection: ${problem}`);
  };
  const who = target.username !== undefined
    ? `user ${JSON.stringify(target.username)} and its password`
    : "the password";
  if (!auth) throw new RedisConnectError(`cannot reach ${at}: no reply`);
  if (/^-WRONGPASS/.test(auth)) {
    refused(
      `${who} were not accepted (WRONGPASS); check HORIZON_QUEUE_PASSWORD or --queue-password-file`,
    );
  }
  if (/^-ERR.*without any password configured/i.test(auth)) {
    refused(
      "a password was given but the server has none set (is this the right server?)",
    );
  }
  if (!auth.startsWith("+OK")) refused(`AUTH: ${auth.slice(1, 100)}`);
  if (ping.startsWith("-NOAUTH")) {
    refused(
      "it wants a password: set HORIZON_QUEUE_PASSWORD, or name a file holding it with --queue-password-file (never on the command line)",
    );
  }
  if (ping.startsWith("-NOPERM")) {
    refused(
      `user ${
        JSON.stringify(target.username ?? "default")
      } may not run PING; give it the ACL in README's "Securing the queue"`,
    );
  }
  if (!ping.startsWith("+PONG")) {
    throw new RedisConnectError(
      `cannot reach ${at}: the server there does not answer like Redis (${
        JSON.stringify(ping.slice(0, 60) || "no reply")
      })`,
    );
  }
  if (!select.startsWith("+OK")) {
    throw new RedisConnectError(
      `cannot reach ${at}: database ${target.db} cannot be selected (${
        select.slice(0, 80) || "no reply"
      })`,
    );
  }
}

/** A plaintext connection that the server dropped: it speaks TLS. */
function wantsTls(target: RedisTarget): RedisAccessError {
  return new RedisAccessError(
    `the queue at ${target.url} closed a plaintext connection without answering: it probably wants TLS (use rediss://)`,
  );
}

/** Connects (and, for TLS, completes the handshake) before `deadline`. */
async function open(target: RedisTarget, deadline: number): Promise<Deno.Conn> {
  const at = `the queue at ${target.url}`;
  let tcp: Deno.TcpConn;
  try {
    tcp = await beforeDeadline(
      Deno.connect({ hostname: target.host, port: target.port }),
      deadline,
      (late) => late.close(),
    );
  } catch (e) {
    const why = e instanceof Deno.errors.ConnectionRefused
      ? "connection refused (is redis-server running there?)"
      : errorText(e);
    throw new RedisConnectError(`cannot reach ${at}: ${why}`);
  }
  if (!target.tls) return tcp;
  let tls: Deno.TlsConn | undefined;
  try {
    tls = await Deno.startTls(tcp, {
      hostname: target.host,
      ...(target.ca !== undefined ? { caCerts: [target.ca] } : {}),
    });
    // A plaintext server reads the TLS hello as a command it waits to see
    // the end of, and never answers: give the handshake a few seconds.
    const handshakeBy = Math.min(deadline, Date.now() + 3000);
    await beforeDeadline(tls.handshake(), handshakeBy);
    return tls;
  } catch (e) {
    (tls ?? tcp).close();
    const text = errorText(e);
    if (/timed out/.test(text) && await speaksPlaintext(target)) {
      throw new RedisAccessError(
        `${at} speaks plaintext, not TLS: use redis:// (or enable TLS on the server)`,
      );
    }
    if (/certificate|UnknownIssuer|NotValidForName|Expired/i.test(text)) {
      throw new RedisAccessError(
        `${at}: its TLS certificate does not verify (${text}); name the CA that signed it with --queue-ca FILE`,
      );
    }
    throw new RedisAccessError(`${at}: TLS handshake failed (${text})`);
  }
}

/** Whether a plaintext PING is answered like Redis (within 2 s). */
async function speaksPlaintext(target: RedisTarget): Promise<boolean> {
  let conn: Deno.Conn | undefined;
  try {
    const deadline = Date.now() + 2000;
    conn = await beforeDeadline(
      Deno.connect({ hostname: target.host, port: target.port }),
      deadline,
      (late) => late.close(),
    );
    await conn.write(new TextEncoder().encode(resp(["PING"])));
    const [line = ""] = await beforeDeadline(readLines(conn, 1), deadline);
    return /^(\+PONG|-NOAUTH|-NOPERM)/.test(line);
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

/** A command in Redis's wire format. */
function resp(args: readonly string[]): string {
  const enc = new TextEncoder();
  return `*${args.length}\r\n${
    args.map((a) => `$${enc.encode(a).length}\r\n${a}\r\n`).join("")
  }`;
}

function isReset(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    /reset by peer|broken pipe/i.test(String((e as Error)?.message));
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
