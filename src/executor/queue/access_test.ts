// Where the queue's URL, password and CA come from, and that the password
// never shows: not in a parsed URL, an error, JSON or console output.

import assert from "node:assert/strict";
import { resolveQueueTarget } from "./access.ts";
import { queueAclCommand } from "./acl.ts";
import {
  connectionOptions,
  maskUrl,
  parseRedisUrl,
  RedisUrlError,
} from "./connection.ts";

const SECRET = "pa$$ w0rd/with:odd@chars";
const ENC = encodeURIComponent(SECRET);
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("parseRedisUrl: rediss://, a user and a password, masked in url", () => {
  const t = parseRedisUrl(`rediss://horizon:${ENC}@q.lan:6380/2`);
  assert.equal(t.url, "rediss://horizon:***@q.lan:6380/2");
  assert.equal(t.tls, true);
  assert.equal(t.username, "horizon");
  assert.equal(t.password?.reveal(), SECRET);
  assert.equal(t.port, 6380);
  assert.equal(parseRedisUrl("rediss://h").port, 6379);
  assert.equal(parseRedisUrl("redis://h:80").port, 80);
  for (
    const shown of [JSON.stringify(t), String(t.password), Deno.inspect(t)]
  ) {
    assert.ok(!shown.includes(SECRET) && !shown.includes(ENC), shown);
  }
  const o = connectionOptions(t) as Record<string, unknown>;
  assert.equal(o.password, SECRET);
  assert.equal(o.username, "horizon");
  assert.deepEqual(o.tls, { rejectUnauthorized: true, servername: "q.lan" });
  assert.equal(maskUrl("redis://u@h"), "redis://u@h");
  assert.throws(
    () => parseRedisUrl(`ftp://u:${ENC}@h`),
    (e: Error) => e instanceof RedisUrlError && !e.message.includes(ENC),
  );
});

Deno.test("resolveQueueTarget: password from a file, a variable or HORIZON_QUEUE_URL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/pw`;
    await Deno.writeTextFile(file, `${SECRET}\n`);
    const url = "rediss://horizon@127.0.0.1:6380";
    let t = await resolveQueueTarget({ queue: url, passwordFile: file });
    assert.equal(t?.password?.reveal(), SECRET);
    assert.equal(t?.url, url);
    t = await resolveQueueTarget(
      { queue: url },
      envOf({ HORIZON_QUEUE_PASSWORD: "from-env" }),
    );
    assert.equal(t?.password?.reveal(), "from-env");
    // The file wins over the variable.
    t = await resolveQueueTarget(
      { queue: url, passwordFile: file },
      envOf({ HORIZON_QUEUE_PASSWORD: "from-env" }),
    );
    assert.equal(t?.password?.reveal(), SECRET);
    t = await resolveQueueTarget(
      {},
      envOf({ HORIZON_QUEUE_URL: `redis://w:${ENC}@h:1/3` }),
    );
    assert.equal(t?.password?.reveal(), SECRET);
    assert.equal(t?.url, "redis://w:***@h:1/3");
    assert.equal(await resolveQueueTarget({}, envOf({})), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveQueueTarget: each mistake is one line that never holds the password", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/empty`, "\n");
    await Deno.writeTextFile(`${dir}/two`, "a\nb\n");
    await Deno.writeTextFile(`${dir}/ca`, "not pem");
    const none = envOf({});
    const cases: [Parameters<typeof resolveQueueTarget>[0], RegExp][] = [
      [
        { queue: `redis://u:${ENC}@h:1` },
        /^--queue redis:\/\/u:\*\*\*@h:1: a password on the command line is visible to every user/,
      ],
      [{ queue: "redis://u@h:1" }, /user "u" needs a password/],
      [
        { queue: "redis://u@h", passwordFile: `${dir}/missing` },
        /--queue-password-file ".*missing": cannot read it \(no such file\)/,
      ],
      [{ queue: "redis://h", passwordFile: `${dir}/empty` }, /file is empty/],
      [{ queue: "redis://h", passwordFile: `${dir}/two` }, /on one line/],
      [{ queue: "redis://h", passwordFile: dir }, /not a file/],
      [{ queue: "redis://h", caFile: `${dir}/ca` }, /is for TLS queues/],
      [{ queue: "rediss://h", caFile: `${dir}/ca` }, /not a PEM certificate/],
      [
        { passwordFile: `${dir}/two` },
        /needs a queue: --queue URL or HORIZON_QUEUE_URL/,
      ],
    ];
    for (const [flags, why] of cases) {
      await assert.rejects(
        () => resolveQueueTarget(flags, none),
        (e: Error) => {
          assert.ok(e instanceof RedisUrlError, e.message);
          assert.match(e.message, why);
          assert.ok(!e.message.includes("\n"), e.message);
          assert.ok(!e.message.includes(SECRET) && !e.message.includes(ENC));
          return true;
        },
      );
    }
    await assert.rejects(
      () =>
        resolveQueueTarget(
          {},
          envOf({ HORIZON_QUEUE_URL: `http://u:${ENC}@h` }),
        ),
      (e: Error) =>
        /^HORIZON_QUEUE_URL: invalid queue URL "http:\/\/u:\*\*\*@h"/.test(
          e.message,
        ) && !e.message.includes(ENC),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README's ACL line is the one the TLS test runs under", async () => {
  const readme = await Deno.readTextFile(
    new URL("../../../README.md", import.meta.url),
  );
  assert.ok(readme.includes(queueAclCommand("horizon", "PASSWORD")));
});
