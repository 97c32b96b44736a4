// Queue URLs, the reachability check, the checkpoint store and the worker
// CLI's one-line errors (a private redis-server; see redis_server.ts).

import assert from "node:assert/strict";
import { Queue } from "bullmq";
import { runScript } from "../../testing/helpers.ts";
import { checkpointKey, redisCheckpointStore } from "./checkpoints.ts";
import { checkRedis } from "./check.ts";
import {
  connectionOptions,
  parseRedisUrl,
  RedisConnectError,
  RedisUrlError,
} from "./connection.ts";
import { freeLoopbackPort, startRedisServer } from "./redis_server.ts";
import { submitRuns } from "./submit.ts";
import { startWorker } from "./worker.ts";

Deno.test("parseRedisUrl: host, port and database", () => {
  assert.deepEqual(parseRedisUrl("redis://127.0.0.1:6390"), {
    url: "redis://127.0.0.1:6390",
    host: "127.0.0.1",
    port: 6390,
    db: 0,
    tls: false,
  });
  assert.deepEqual(parseRedisUrl("redis://queue.lan/3"), {
    url: "redis://queue.lan/3",
    host: "queue.lan",
    port: 6379,
    db: 3,
    tls: false,
  });
  assert.equal(parseRedisUrl("redis://[::1]:7000/").host, "::1");
  assert.equal(parseRedisUrl("REDIS://h:1").port, 1);
});

Deno.test("parseRedisUrl: anything else is one line naming the URL", () => {
  for (
    const [url, why] of [
      ["http://h:6379", /must start with redis:\/\/ or rediss:\/\//],
      ["h:6379", /must start with redis:\/\//],
      ["redis://", /not a URL|no host/],
      ["redis://h:99999", /not a URL|bad port/],
      ["redis://h:6379/x", /database must be a number, got "x"/],
      ["redis://h:6379/1/2", /database must be a number/],
      ["redis://h:6379?db=1", /no query/],
    ] as const
  ) {
    assert.throws(
      () => parseRedisUrl(url),
      (e: Error) => {
        assert.ok(e instanceof RedisUrlError, url);
        assert.ok(e.message.includes(JSON.stringify(url)), e.message);
        assert.match(e.message, why);
        assert.match(
          e.message,
          /expected redis\[s\]:\/\/\[USER@\]HOST\[:PORT\]\[\/DB\]\)$/,
        );
        assert.ok(!e.message.includes("\n"));
        return true;
      },
    );
  }
});

Deno.test("checkRedis: connection refused is one clear line", async () => {
  const url = `redis://127.0.0.1:${freeLoopbackPort()}`;
  await assert.rejects(
    () => checkRedis(parseRedisUrl(url)),
    (e: Error) => {
      assert.ok(e instanceof RedisConnectError);
      assert.equal(
        e.message,
        `cannot reach the queue at ${url}: connection refused (is redis-server running there?)`,
      );
      return true;
    },
  );
  // submitRuns and startWorker check first, too.
  await assert.rejects(() => submitRuns(url, []), /connection refused/);
  await assert.rejects(() => startWorker(url), /connection refused/);
  await assert.rejects(() => submitRuns("http://x", []), RedisUrlError);
});

Deno.test("checkRedis: a server that is not Redis, or never answers", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      if (conns.length === 1) {
        await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad\r\n\r\n"));
      } // the second one stays silent
    }
  })();
  const target = parseRedisUrl(`redis://127.0.0.1:${port}`);
  await assert.rejects(
    () => checkRedis(target),
    /does not answer like Redis \("HTTP\/1.1 400 Bad"\)/,
  );
  await assert.rejects(() => checkRedis(target, 300), /timed out/);
  listener.close();
  await serving.catch(() => {});
  for (const c of conns) c.close();
});

Deno.test({
  name: "checkRedis and the checkpoint store on a real redis-server",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    await checkRedis(parseRedisUrl(server.url));
    await checkRedis(parseRedisUrl(`${server.url}/15`));
    await assert.rejects(
      () => checkRedis(parseRedisUrl(`${server.url}/99`)),
      /database 99 cannot be selected \(-ERR/,
    );
    const queue = new Queue("horizon-test", {
      connection: connectionOptions(parseRedisUrl(server.url)),
    });
    try {
      const client = await queue.client;
      const key = "ab".repeat(32);
      const store = redisCheckpointStore(client, key);
      assert.equal(await store.load(), null);
      const bytes = new Uint8Array(1_500_001);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 255;
      await store.save(bytes.subarray(1)); // a view with an offset
      assert.deepEqual(await store.load(), bytes.subarray(1));
      const ttl = Number(
        await (client as unknown as {
          ttl(k: string): Promise<number>;
        }).ttl(checkpointKey(key)),
      );
      assert.ok(ttl > 6 * 24 * 3600, `TTL ${ttl}`);
      await store.save(new Uint8Array([1, 2, 3]));
      assert.deepEqual(await store.load(), new Uint8Array([1, 2, 3]));
      await store.clear();
      assert.equal(await store.load(), null);
    } finally {
      await queue.close();
    }
  },
});

Deno.test("startRedisServer: a missing redis-server is a clear error", async () => {
  await assert.rejects(
    () => startRedisServer("/nonexistent/redis-server"),
    /redis-server is not installed: run tools\/setup\.sh/,
  );
});

const WORKER = new URL("../../cli/worker.ts", import.meta.url).pathname;

Deno.test("worker CLI: usage mistakes and an unreachable queue are one line", async () => {
  let r = await runScript(WORKER, []);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: --queue redis:\/\/HOST:PORT is required/);
  r = await runScript(WORKER, ["--queue", "http://h:1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: invalid queue URL "http:\/\/h:1"/);
  r = await runScript(WORKER, ["--queue", "redis://h", "--concurrency", "0"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--concurrency must be an integer >= 1/);
  const url = `redis://127.0.0.1:${freeLoopbackPort()}`;
  r = await runScript(WORKER, ["--queue", url]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `error: cannot reach the queue at ${url}: connection refused (is redis-server running there?)\n`,
  );
  r = await runScript(WORKER, ["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: deno task worker --queue/);
});
