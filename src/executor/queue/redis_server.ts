/**
 * A private, throwaway Redis server for tests: `redis-server` (installed by
 * tools/setup.sh) on a free loopback port, without persistence, its files in
 * a temporary directory, stopped and removed by `stop()`.
 *
 * @module
 */

import { type Child, startChild } from "../../process/child_process.ts";
import { oneLine } from "../../process/one_line.ts";
import { checkRedis, parseRedisUrl } from "./connection.ts";

/** A running private Redis server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
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
 * not installed (tools/setup.sh installs it) or does not come up.
 */
export async function startRedisServer(
  command = "redis-server",
): Promise<RedisServer> {
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
          "--port",
          String(port),
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
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (!child.exited && Date.now() < deadline) {
      try {
        await checkRedis(parseRedisUrl(url), 1000);
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
