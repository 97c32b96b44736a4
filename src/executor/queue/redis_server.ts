/**
 * A private, throwaway Redis server for tests: `redis-server` (installed by
 * tools/setup.sh) on a free loopback port, without persistence, its files in
 * a temporary directory, stopped and removed by `stop()`; optionally with a
 * password, ACL users, or TLS only.
 *
 * @module
 */

import { type Child, startChild } from "../../process/child_process.ts";
import { oneLine } from "../../process/one_line.ts";
import { checkRedis } from "./check.ts";
import { parseRedisUrl, RedisAccessError } from "./connection.ts";

/** How a private server is set up. */
export interface RedisServerOptions {
  /** The executable (default `redis-server`). */
  readonly command?: string;
  /** `requirepass`: the default user's password. */
  readonly password?: string;
  /**
   * ACL users, each a `user` directive's rules (`w on >pw ~key* +get`);
   * `default off` among them turns the default user off.
   */
  readonly users?: readonly string[];
  /** TLS only (no plaintext port): the server's PEM certificate and key files. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** A running private Redis server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, or `rediss://` with TLS. */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts `redis-server` on a free loopback port (no RDB snapshots, no AOF)
 * and waits until it answers. Throws a clear error when `redis-server` is
 * not installed (tools/setup.sh installs it) or does not come up. A string
 * is the executable.
 */
export async function startRedisServer(
  options: string | RedisServerOptions = {},
): Promise<RedisServer> {
  const o = typeof options === "string" ? { command: options } : options;
  const command = o.command ?? "redis-server";
  const dir = await Deno.makeTempDir({ prefix: "horizon_redis_" });
  const log = `${dir}/redis.log`;
  let lastError: unknown;
  // A port found free may be taken before the server binds it: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freeLoopbackPort();
    let child: Child;
    try {
      child = startChild(command, {
        args: [
          ...(o.tls
            ? [
              "--port",
              "0",
              "--tls-port",
              String(port),
              "--tls-cert-file",
              o.tls.cert,
              "--tls-key-file",
              o.tls.key,
              "--tls-auth-clients",
              "no",
            ]
            : ["--port", String(port)]),
          ...(o.password !== undefined ? ["--requirepass", o.password] : []),
          ...(o.users ?? []).flatMap((
            u,
          ) => ["--user", ...u.trim().split(/\s+/)]),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
          "--dir",
          dir,
          "--logfile",
          log,
        ],
      });
    } catch (e) {
      await Deno.remove(dir, { recursive: true });
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(
          `${command} is not installed: run tools/setup.sh (it installs Debian's redis-server), or apt-get install redis-server`,
        );
      }
      throw e;
    }
    const url = `${o.tls ? "rediss" : "redis"}://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (!child.exited && Date.now() < deadline) {
      try {
        // The server is up once it answers, a refusal included; the CA
        // that signed a test server's certificate is not known here.
        await checkRedis(parseRedisUrl(url), 1000).catch((e) => {
          if (!(e instanceof RedisAccessError)) throw e;
        });
        let stopped = false;
        const stop = async () => {
          if (stopped) return;
          stopped = true;
          await child.stop();
          await Deno.remove(dir, { recursive: true });
        };
        return { url, port, stop, [Symbol.asyncDispose]: stop };
      } catch (e) {
        lastError = e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await child.stop({ signal: "SIGKILL" });
  }
  let tail = "";
  try {
    tail = (await Deno.readTextFile(log)).trim().split("\n").slice(-3)
      .join(" | ");
  } catch { /* no log */ }
  await Deno.remove(dir, { recursive: true });
  throw new Error(
    `${command} did not start: ${oneLine(lastError)}${
      tail ? ` (log: ${tail})` : ""
    }`,
  );
}
