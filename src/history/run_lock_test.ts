import assert from "node:assert/strict";
import { withTempDir } from "../testing/helpers.ts";
import {
  breakStale,
  holderGone,
  type LockHolder,
  lockRun,
  tryLockRun,
  waitingLine,
} from "./run_lock.ts";

const MODULE = new URL("./run_lock.ts", import.meta.url).href;

/**
 * A separate process that takes the lock at `path`, says "locked" and then
 * holds it until its stdin closes (then releases it) or it is killed.
 */
async function lockingChild(path: string) {
  const code = `
    import { tryLockRun } from ${JSON.stringify(MODULE)};
    const got = await tryLockRun(${JSON.stringify(path)});
    if (!("lock" in got)) Deno.exit(3);
    console.log("locked");
    for await (const _ of Deno.stdin.readable) { /* hold until stdin closes */ }
    await got.lock.release();
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the child ended before locking: ${said}`);
    said += value;
  }
  reader.releaseLock();
  const stdin = child.stdin.getWriter();
  return {
    pid: child.pid,
    /** Closes its stdin: it releases the lock and exits. */
    async finish() {
      await stdin.close();
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
    /** Kills it with `signal` and collects its exit (no zombie left). */
    async kill(signal: Deno.Signal) {
      child.kill(signal);
      await child.status;
      await stdin.close().catch(() => {});
      await child.stdout.cancel().catch(() => {});
    },
  };
}

Deno.test("lockRun waits for the process holding the lock, names it once, and takes it when released", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/locks/k.lock`;
    const child = await lockingChild(path);
    try {
      const attempt = await tryLockRun(path);
      assert.ok("holder" in attempt, "a live holder keeps the lock");
      assert.equal(attempt.holder.pid, child.pid);
      const waited: LockHolder[] = [];
      let taken = false;
      const waiting = lockRun(path, {
        pollMs: 20,
        onWait: (h) => waited.push(h),
      }).then((lock) => {
        taken = true;
        return lock;
      });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(taken, false, "still held: still waiting");
      await child.finish();
      const lock = await waiting;
      assert.deepEqual(waited.map((h) => h.pid), [child.pid], "told once");
      assert.equal(
        JSON.parse(await Deno.readTextFile(path)).pid,
        Deno.pid,
        "the lock file names its new holder",
      );
      await lock.release();
      await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    } finally {
      await child.kill("SIGKILL").catch(() => {});
    }
  });
});

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  Deno.test(`a lock whose holder was killed (${signal}) is taken over`, async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/k.lock`;
      const child = await lockingChild(path);
      await child.kill(signal);
      // The dead holder's file is still there: only its pid says it is stale.
      assert.equal(JSON.parse(await Deno.readTextFile(path)).pid, child.pid);
      const waited: LockHolder[] = [];
      const lock = await lockRun(path, {
        pollMs: 20,
        onWait: (h) => waited.push(h),
      });
      assert.deepEqual(waited, [], "a dead holder is not waited for");
      await lock.release();
    });
  });
}

Deno.test("stale locks: a pid that no longer runs, a reused pid, an unreadable file", async () => {
  await withTempDir(async (dir) => {
    const host = Deno.hostname();
    const done = new Deno.Command(Deno.execPath(), {
      args: ["--version"],
      stdout: "null",
    })
      .spawn();
    await done.status; // collected: its pid names no process now
    const gone: LockHolder = {
      pid: done.pid,
      host,
      startedAt: new Date().toISOString(),
      processStart: null,
    };
    assert.equal(holderGone(gone), true);
    const mine = await tryLockRun(`${dir}/mine.lock`);
    assert.ok("lock" in mine);
    const me: LockHolder = JSON.parse(
      await Deno.readTextFile(`${dir}/mine.lock`),
    );
    assert.equal(holderGone(me), false, "this process runs");
    if (Deno.build.os === "linux") {
      assert.equal(
        holderGone({ ...me, processStart: "1" }),
        true,
        "same pid, another start: the pid was reused",
      );
    }
    assert.equal(
      holderGone({ ...gone, host: `${host}-elsewhere` }),
      false,
      "another host's process cannot be checked: never called gone",
    );
    for (
      const [name, text] of [
        ["dead", JSON.stringify(gone)],
        ["garbage", "{not json"],
        ["empty", ""],
      ]
    ) {
      await Deno.writeTextFile(`${dir}/${name}.lock`, text);
      const got = await tryLockRun(`${dir}/${name}.lock`);
      assert.ok("lock" in got, name);
      await got.lock.release();
    }
    await mine.lock.release();
  });
});

Deno.test("many processes breaking one stale lock at once: exactly one takes it", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/k.lock`;
    const done = new Deno.Command(Deno.execPath(), {
      args: ["--version"],
      stdout: "null",
    })
      .spawn();
    await done.status;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        pid: done.pid,
        host: Deno.hostname(),
        startedAt: new Date().toISOString(),
        processStart: null,
      }),
    );
    // In-process attempts interleave at every file operation, as separate
    // processes would.
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () => tryLockRun(path)),
    );
    const winners = attempts.filter((a) => "lock" in a);
    assert.equal(winners.length, 1);
    assert.ok(
      attempts.every((a) => "lock" in a || a.holder.pid === Deno.pid),
      "the others see the winner, not the dead holder",
    );
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["k.lock"], "no breaker or temporary file left");
  });
});

Deno.test("breakStale removes only the stale lock it judged, and only as the one breaker", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/k.lock`;
    const stale = '{"pid":1}';
    // Judged stale, but replaced by a fresh lock before the break: kept.
    const fresh = await tryLockRun(path);
    assert.ok("lock" in fresh);
    const freshText = await Deno.readTextFile(path);
    await breakStale(path, stale);
    assert.equal(await Deno.readTextFile(path), freshText);
    await fresh.lock.release();
    // Another live process is breaking it: this one leaves it alone.
    await Deno.writeTextFile(path, stale);
    const breaker = await tryLockRun(`${path}.break`);
    assert.ok("lock" in breaker);
    await breakStale(path, stale);
    assert.equal(await Deno.readTextFile(path), stale);
    await breaker.lock.release();
    // A breaker left by a dead process is cleared; the next break succeeds.
    await Deno.writeTextFile(`${path}.break`, "{}");
    await breakStale(path, stale);
    await assert.rejects(Deno.stat(`${path}.break`), Deno.errors.NotFound);
    await breakStale(path, stale);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  });
});

Deno.test("lockRun stops waiting when its signal aborts", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/k.lock`;
    const held = await tryLockRun(path);
    assert.ok("lock" in held);
    const controller = new AbortController();
    const waiting = lockRun(path, {
      pollMs: 20,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("stop now")), 50);
    await assert.rejects(waiting, /stop now/);
    await held.lock.release();
  });
});

Deno.test("waitingLine: one line; another host's lock names the file to remove", () => {
  const here = {
    pid: 7,
    host: Deno.hostname(),
    startedAt: "2026-01-02T03:04:05.000Z",
    processStart: null,
  };
  assert.equal(
    waitingLine(here, "/c/locks/k.lock"),
    "waiting for the same run in process 7 (since 2026-01-02T03:04:05.000Z)",
  );
  const line = waitingLine(
    { ...here, host: "elsewhere.example" },
    "/c/locks/k.lock",
  );
  assert.match(line, /process 7 on elsewhere\.example/);
  assert.match(line, /if it is gone, remove \/c\/locks\/k\.lock$/);
  assert.doesNotMatch(line, /\n/);
});
