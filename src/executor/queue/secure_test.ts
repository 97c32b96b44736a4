// The queue across machines, secured: private redis-servers with a
// password, with an ACL user (README's rules) and TLS only, with a CA and
// certificates made here. Each wrong setting is one line and exit 2 from the
// worker CLI before any run is taken; a sweep of two smoke runs and a
// diverging one through two real worker processes over TLS as the ACL user
// records the smoke runs equal to local runs and the divergence as the pool
// does (status "diverged", verdict invalid, then planned as recorded); and
// no output of it (records, logs, the submitter's lines, everything left
// in Redis, the workers' command lines) holds the password.

import assert from "node:assert/strict";
import { Queue } from "bullmq";
import { hypothesisById } from "../../../hypotheses/mod.ts";
import { runScript } from "../../testing/helpers.ts";
import { WorkerProcess } from "../../testing/worker_process.ts";
import { executeRun } from "../execute.ts";
import { planRuns } from "../plan.ts";
import { submitAndRecord } from "../queue_submit.ts";
import type { Hypothesis, RunRecord } from "../../hypothesis/types.ts";
import { readRecord } from "../../history/records.ts";
import { resolveQueueTarget } from "./access.ts";
import { QUEUE_ACL_RULES } from "./acl.ts";
import { checkRedis } from "./check.ts";
import { connectionOptions, parseRedisUrl } from "./connection.ts";
import { QUEUE_NAME } from "./jobs.ts";
import { startRedisServer } from "./redis_server.ts";
import { makeTestCertificates } from "./test_certificates.ts";

const WORKER = new URL("../../cli/worker.ts", import.meta.url).pathname;
const PASSWORD = "Horizon-Test-Secret-7f3a9c";
const ADMIN = "Admin-Secret-2b81";

/** What must not differ between a queue run and a local run. */
function science(r: RunRecord) {
  const { loss, gradNorm, trajectory, final, verdict, divergence } = r;
  return {
    key: r.key,
    status: r.status,
    loss,
    gradNorm,
    trajectory,
    final,
    verdict,
    divergence,
  };
}

Deno.test({
  name:
    "secure queue: a wrong or missing password, a certificate that does not verify, TLS vs plaintext: one line each, exit 2",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using certs = await makeTestCertificates();
    await using plain = await startRedisServer({ password: PASSWORD });
    await using tls = await startRedisServer({
      tls: { cert: certs.cert, key: certs.key },
      password: PASSWORD,
    });
    const pw = `${certs.dir}/pw`, wrong = `${certs.dir}/wrong`;
    await Deno.writeTextFile(pw, `${PASSWORD}\n`);
    await Deno.writeTextFile(wrong, "not-the-password\n");
    const tlsUrl = tls.url, plainUrl = plain.url;
    const cases: [string[], RegExp][] = [
      [
        ["--queue", plainUrl, "--queue-password-file", wrong],
        /refused the connection: the password were not accepted \(WRONGPASS\)/,
      ],
      [["--queue", plainUrl], /refused the connection: it wants a password/],
      [
        ["--queue", tlsUrl, "--queue-password-file", pw],
        /its TLS certificate does not verify \(.*UnknownIssuer\).*--queue-ca FILE$/,
      ],
      [
        [
          "--queue",
          tlsUrl,
          "--queue-password-file",
          pw,
          "--queue-ca",
          certs.otherCa,
        ],
        /its TLS certificate does not verify/,
      ],
      [
        [
          "--queue",
          plainUrl.replace("redis:", "rediss:"),
          "--queue-ca",
          certs.ca,
        ],
        /speaks plaintext, not TLS: use redis:\/\//,
      ],
      [
        [
          "--queue",
          tlsUrl.replace("rediss:", "redis:"),
          "--queue-password-file",
          pw,
        ],
        /closed a plaintext connection without answering: it probably wants TLS \(use rediss:\/\/\)/,
      ],
      [
        ["--queue", plainUrl.replace("//", `//u:${PASSWORD}@`)],
        /a password on the command line is visible to every user/,
      ],
    ];
    const results = await Promise.all(
      cases.map(([args]) => runScript(WORKER, args)),
    );
    for (const [i, [args, line]] of cases.entries()) {
      const r = results[i];
      const shown = args.join(" ").replace(PASSWORD, "***");
      assert.equal(r.code, 2, `${shown}: ${r.stderr}`);
      assert.equal(r.stdout, "", shown);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${shown}: ${r.stderr}`);
      assert.match(lines[0], /^error: /);
      assert.match(lines[0], line, shown);
      assert.ok(!r.stderr.includes(PASSWORD), `${shown}: ${r.stderr}`);
    }
    // The right settings pass the same check.
    const ok = await resolveQueueTarget({
      queue: tlsUrl,
      passwordFile: pw,
      caFile: certs.ca,
    });
    await checkRedis(ok!);
  },
});

/** control-layernorm with one sweep point whose learning rate diverges. */
function diverging(): Hypothesis {
  const h = hypothesisById("control-layernorm");
  return { ...h, sweep: [{ path: "adamw.lr", values: [1e6] }] };
}

// Two 300-step smoke runs, one per worker: ~25 s on a quiet 2-core machine.
Deno.test({
  name:
    "secure queue: a sweep over TLS as the ACL user, two workers: records equal local runs, a divergence is recorded as invalid, no password anywhere",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using certs = await makeTestCertificates();
    await using server = await startRedisServer({
      tls: { cert: certs.cert, key: certs.key },
      users: [
        `default on >${ADMIN} ~* &* +@all`,
        `horizon on >${PASSWORD} ${QUEUE_ACL_RULES}`,
      ],
    });
    const pwFile = `${certs.dir}/pw`;
    await Deno.writeTextFile(pwFile, `${PASSWORD}\n`);
    const url = server.url.replace("rediss://", "rediss://horizon@");
    const target = (await resolveQueueTarget({
      queue: url,
      passwordFile: pwFile,
      caFile: certs.ca,
    }))!;
    const out = await Deno.makeTempDir({ prefix: "horizon_secure_sweep_" });
    const args = [
      "--queue-password-file",
      pwFile,
      "--queue-ca",
      certs.ca,
      "--threads",
      "1",
      "--checkpoint-every",
      "100",
    ];
    const workers = [
      new WorkerProcess(url, { args }),
      new WorkerProcess(url, { args }),
    ];
    const printed: string[] = [];
    const error = console.error;
    try {
      // Seeds whose smoke records are committed: no local run to wait for.
      const h = hypothesisById("11.2b-jiggling");
      const opts = { tier: "smoke" as const, backend: "cpu" as const };
      const seeds = [2, 4];
      // The committed records (local runs, kept current by
      // experiments/hypotheses_test.ts); this sweep writes to `out`.
      const committed = await planRuns(h, { ...opts, seeds });
      const plan = [
        ...await planRuns(h, { ...opts, seeds, recordsDir: out }),
        ...await planRuns(diverging(), {
          ...opts,
          seeds: [7],
          recordsDir: out,
        }),
      ];
      assert.ok(plan.every((p) => p.record === null));
      for (const w of workers) await w.ready(60_000);
      console.error = (...a: unknown[]) => printed.push(a.join(" "));
      const outcome = await submitAndRecord(
        target,
        plan.map((p) => [p.spec]),
        plan,
      );
      console.error = error;
      assert.deepEqual(outcome, { recorded: 2, diverged: 1, failed: 0 });

      // Both workers trained; each smoke record equals a local run's.
      const starts = workers.map((w) => w.events("start"));
      assert.ok(starts.every((s) => s.length >= 1), String(starts));
      for (const [i, p] of plan.slice(0, 2).entries()) {
        const got = await readRecord(p.prepared.recordFile);
        const local = committed[i].record ??
          await executeRun(p.spec, {
            threads: 1,
            saveRecord: false,
            writeHistory: false,
            useCache: false,
          });
        assert.deepEqual(science(got!), science(local));
      }
      // The divergence: recorded as the pool records it, then planned as done.
      const d = await readRecord(plan[2].prepared.recordFile);
      assert.equal(d?.status, "diverged");
      assert.equal(d?.verdict, "invalid");
      assert.equal(d?.final, null);
      assert.ok(d?.divergence && d.divergence.step >= 1);
      assert.deepEqual(d?.overrides, ["adamw.lr=1000000"]);
      const again = await planRuns(diverging(), {
        ...opts,
        seeds: [7],
        recordsDir: out,
      });
      assert.equal(again[0].record?.key, plan[2].spec.key, "still to run");
      assert.ok(
        printed.some((l) =>
          /diverged at step \d+ \(recorded as invalid\)/.test(l)
        ),
        printed.join("\n"),
      );

      await assertNoPassword({
        out,
        printed,
        workers,
        server: server.url,
        ca: certs.ca,
      });
    } finally {
      console.error = error;
      for (const w of workers) await w.stop("SIGKILL");
      await Deno.remove(out, { recursive: true });
    }
  },
});

/** Scans every output of the sweep for the password. */
async function assertNoPassword(o: {
  out: string;
  printed: string[];
  workers: WorkerProcess[];
  server: string;
  ca: string;
}): Promise<void> {
  const texts: [string, string][] = [];
  for await (const path of files(o.out)) {
    texts.push([path, await Deno.readTextFile(path)]);
  }
  // Three records, each a JSON and its arrays file.
  assert.equal(texts.length, 6, texts.map(([p]) => p).join(" "));
  texts.push(["the submitter's lines", o.printed.join("\n")]);
  for (const w of o.workers) {
    const cmdline = await Deno.readTextFile(`/proc/${w.child.pid}/cmdline`)
      .catch(() => "");
    assert.ok(cmdline.includes("--queue-password-file"), cmdline);
    texts.push([`worker ${w.child.pid}'s command line`, cmdline]);
    texts.push([
      `worker ${w.child.pid}'s output`,
      [...w.lines.map((l) => l.text), ...w.stderr].join("\n"),
    ]);
  }
  // Everything in Redis, read as the admin.
  const admin = new Queue(QUEUE_NAME, {
    connection: connectionOptions({
      ...parseRedisUrl(o.server),
      password: (await resolveQueueTarget(
        { queue: o.server },
        (n) => n === "HORIZON_QUEUE_PASSWORD" ? ADMIN : undefined,
      ))!.password,
      ca: await Deno.readTextFile(o.ca),
    }),
  });
  try {
    // ioredis's generic command call (BullMQ's client type leaves it out).
    const client = await admin.client as unknown as {
      call(...args: (string | number)[]): Promise<unknown>;
    };
    const keys = await client.call("KEYS", "*") as string[];
    assert.ok(keys.some((k) => k.startsWith(`bull:${QUEUE_NAME}:`)), `${keys}`);
    const read: Record<string, string[]> = {
      string: ["GET"],
      hash: ["HGETALL"],
      list: ["LRANGE", "0", "-1"],
      zset: ["ZRANGE", "0", "-1"],
      set: ["SMEMBERS"],
      stream: ["XRANGE", "-", "+"],
    };
    let dump = "";
    for (const key of keys) {
      const type = await client.call("TYPE", key) as string;
      const [command, ...rest] = read[type] ?? ["TYPE"];
      const value = await client.call(command, key, ...rest);
      dump += `${key} ${type} ${JSON.stringify(value)}\n`;
    }
    assert.match(dump, /adamw\.lr=1000000/); // the job data is in there
    texts.push(["Redis", dump]);
  } finally {
    await admin.close();
  }
  for (const [where, text] of texts) {
    assert.ok(!text.includes(PASSWORD), `the password is in ${where}`);
  }
}

async function* files(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* files(path);
    else yield path;
  }
}
