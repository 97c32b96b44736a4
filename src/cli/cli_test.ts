// The CLIs as a user meets them: subprocesses, exit codes, one-line errors.

import assert from "node:assert/strict";
import { runScript } from "../testing/helpers.ts";

function cli(script: string, ...args: string[]) {
  return runScript(new URL(script, import.meta.url).pathname, args);
}

for (const script of ["run.ts", "report.ts", "bench.ts", "reproduce.ts"]) {
  Deno.test(`${script}: a bad flag is one error line and exit 2`, async () => {
    const r = await cli(script, "--no-such-flag");
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: .*--no-such-flag.*valid options: /);
  });

  Deno.test(`${script}: --help exits 0 with usage`, async () => {
    const r = await cli(script, "--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: deno task/);
  });
}

Deno.test("run: an unknown hypothesis lists the valid ids", async () => {
  const r = await cli("run.ts", "no-such-hypothesis");
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^error: unknown hypothesis "no-such-hypothesis"; choose one of: .*11\.2b-jiggling/,
  );
  assert.ok(!r.stderr.includes("    at "), "no stack trace");
});

Deno.test("run: --steps beyond the schedule is refused", async () => {
  const r = await cli("run.ts", "control-layernorm", "--steps", "20000");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--steps must be in 1\.\.10000/);
});
