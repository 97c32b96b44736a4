import assert from "node:assert/strict";
import { readLines, startChild } from "./child_process.ts";

/** Resolves with the first line `child` prints that matches `re`. */
function lineMatching(
  re: RegExp,
): { onLine: (line: string) => void; line: Promise<string> } {
  let resolve!: (line: string) => void;
  const line = new Promise<string>((r) => resolve = r);
  return { onLine: (l) => re.test(l) && resolve(l), line };
}

Deno.test("startChild delivers stdout and stderr lines, the last one without a newline too", async () => {
  const out: string[] = [], err: string[] = [];
  const child = startChild("sh", {
    args: ["-c", "printf 'a\\nb\\n'; printf 'e1\\n' >&2; printf 'c'; exit 3"],
    onStdout: (l) => out.push(l),
    onStderr: (l) => err.push(l),
  });
  const status = await child.done;
  assert.deepEqual(out, ["a", "b", "c"]);
  assert.deepEqual(err, ["e1"]);
  assert.equal(status.code, 3);
  assert.equal(child.exited, true);
  // Stopping an ended child sends nothing and gives the same status.
  assert.equal((await child.stop()).code, 3);
});

Deno.test("stop(): a child that honours SIGTERM ends on it, before the grace period", async () => {
  const ready = lineMatching(/ready/);
  const child = startChild("sh", {
    args: ["-c", "echo ready; exec sleep 30"],
    onStdout: ready.onLine,
  });
  await ready.line;
  const t0 = performance.now();
  const status = await child.stop({ graceMs: 20_000 });
  assert.equal(status.signal, "SIGTERM");
  assert.ok(performance.now() - t0 < 10_000);
});

Deno.test("stop(): a child that ignores SIGTERM is killed with SIGKILL after the grace period", async () => {
  const ready = lineMatching(/ready/);
  const child = startChild("sh", {
    // An ignored signal stays ignored across exec.
    args: ["-c", "trap '' TERM; echo ready; exec sleep 30"],
    onStdout: ready.onLine,
    graceMs: 300,
  });
  await ready.line;
  const t0 = performance.now();
  const [a, b] = await Promise.all([child.stop(), child.stop()]);
  const ms = performance.now() - t0;
  assert.equal(a.signal, "SIGKILL");
  assert.equal(b, a);
  assert.ok(ms >= 250 && ms < 10_000, `${ms} ms`);
});

Deno.test("stop({ signal: 'SIGKILL' }) kills at once; an abort signal stops the child", async () => {
  const ready = lineMatching(/ready/);
  const killed = startChild("sh", {
    args: ["-c", "trap '' TERM; echo ready; exec sleep 30"],
    onStdout: ready.onLine,
    graceMs: 60_000,
  });
  await ready.line;
  assert.equal((await killed.stop({ signal: "SIGKILL" })).signal, "SIGKILL");

  const controller = new AbortController();
  const aborted = lineMatching(/ready/);
  const child = startChild("sh", {
    args: ["-c", "echo ready; exec sleep 30"],
    onStdout: aborted.onLine,
    signal: controller.signal,
  });
  await aborted.line;
  controller.abort();
  assert.equal((await child.done).signal, "SIGTERM");
});

Deno.test("startChild throws NotFound for a missing command", () => {
  assert.throws(
    () => startChild("horizon-no-such-command"),
    Deno.errors.NotFound,
  );
});

Deno.test("readLines splits across chunk boundaries", async () => {
  const chunks = ["ab", "c\nd", "\n\ne"].map((s) =>
    new TextEncoder().encode(s)
  );
  const stream = ReadableStream.from(chunks);
  assert.deepEqual(await Array.fromAsync(readLines(stream)), [
    "abc",
    "d",
    "",
    "e",
  ]);
});
