// The CLIs as a user meets them: subprocesses, exit codes, one-line errors.

import assert from "node:assert/strict";
import { listDir, runScript, withTempDir } from "../testing/helpers.ts";
import { readRecord } from "../history/records.ts";

function cli(script: string, ...args: string[]) {
  return runScript(new URL(script, import.meta.url).pathname, args);
}

for (
  const script of [
    "run.ts",
    "report.ts",
    "../../bench/main.ts",
    "reproduce.ts",
    "record.ts",
    "sweep.ts",
  ]
) {
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
  assert.match(r.stderr, /--steps must be an integer >= 1 and <= 10000/);
});

/** One-line usage error (exit 2) from `run` with these arguments. */
async function runRefuses(args: string[], message: RegExp): Promise<void> {
  const r = await cli("run.ts", "control-layernorm", ...args);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], message);
  assert.equal(r.stdout, "", "nothing trained");
}

Deno.test("run: numbers are parsed strictly; a negative one says what is allowed", async () => {
  for (const v of ["1e1", "0x10", " 20", "2.5"]) {
    await runRefuses(["--steps", v], /^error: --steps must be an integer/);
  }
  await runRefuses(
    ["--steps", "-5"],
    /^error: --steps must be an integer >= 1/,
  );
  await runRefuses(
    ["--seed", "1e300"],
    /^error: --seed must be an integer >= 0/,
  );
  await runRefuses(
    ["--threads", "999"],
    /^error: --threads must be in 1\.\.\d+ \(this machine has/,
  );
});

Deno.test("run: every config field is validated before training, naming the field", async () => {
  const cases: [string, RegExp][] = [
    ["adamw.lr=-1e-3", /adamw\.lr must be >= 0/],
    ["adamw.beta1=2", /adamw\.beta1 must be in \[0, 1\)/],
    ["adamw.weightDecay=-100", /adamw\.weightDecay must be >= 0/],
    ["adamw.eps=0", /adamw\.eps must be > 0/],
    [
      "decay=nope",
      /decay must be one of "hf-trainer", "matrices-only", got "nope"/,
    ],
    ["adamw.Lr=1", /adamw\.Lr is not a config field/],
    ["noise.scale=-1", /noise\.scale must be >= 0/],
    ["adamw.lr=NaN", /adamw\.lr must be a finite number/],
    ["adamw.lr", /path=value/],
  ];
  for (const [set, message] of cases) {
    await runRefuses(["--set", set, "--steps", "1"], message);
  }
});

Deno.test("run: output locations and the corpus are checked before training", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/a-file`;
    await Deno.writeTextFile(file, "x");
    await runRefuses(["--out", file, "--steps", "1"], /a-file/);
    await runRefuses(["--out", "", "--steps", "1"], /--out must not be empty/);
    await runRefuses(
      ["--corpus", `${dir}/missing.txt`, "--steps", "1"],
      /missing\.txt/,
    );
    assert.equal(await Deno.readTextFile(file), "x", "the file is untouched");
  });
});

Deno.test("run: a diverged run exits 1 with the step and keeps an invalid record", async () => {
  await withTempDir(async (dir) => {
    const r = await cli(
      "run.ts",
      "control-layernorm",
      "--steps",
      "20",
      "--set",
      "adamw.lr=1e6",
      "--backend",
      "cpu",
      "--out",
      dir,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: diverged at step \d+ \(loss (NaN|\d+)/m);
    assert.ok(!/verdict=(null|positive)/.test(r.stdout), r.stdout);
    const [name] = await listDir(`${dir}/control-layernorm`);
    const record = (await readRecord(`${dir}/control-layernorm/${name}`))!;
    assert.equal(record.status, "diverged");
    assert.equal(record.verdict, "invalid");
    assert.equal(record.final, null);
    assert.deepEqual(record.overrides, ["adamw.lr=1000000"]);
    // Asked again, the cached record gives the same answer, not a verdict.
    const again = await cli(
      "run.ts",
      "control-layernorm",
      "--steps",
      "20",
      "--set",
      "adamw.lr=1e6",
      "--backend",
      "cpu",
      "--out",
      dir,
    );
    assert.equal(again.code, 1);
    assert.match(again.stderr, /diverged at step/);
  });
});

Deno.test("bench: a negative number is the option's value, not 'ambiguous'", async () => {
  const r = await cli("../../bench/main.ts", "--warmup", "-5");
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^error: --warmup must be/);
  assert.ok(!r.stderr.includes("ambiguous"), r.stderr);
});

Deno.test("bench: numbers are parsed strictly", async () => {
  for (const v of ["1e1", "0x10", " 20"]) {
    const r = await cli("../../bench/main.ts", "--steps", v);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: --steps must be an integer >= 1/);
  }
});

Deno.test("report: a negative number is the option's value, not 'ambiguous'", async () => {
  const r = await cli("report.ts", "--tier", "-1");
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'error: --tier must be one of: smoke, full, got "-1"\n',
  );
});

Deno.test("--tier, --backend, --backends: the same line everywhere, naming the flag and the allowed values", async () => {
  const tier = 'error: --tier must be one of: smoke, full, got "medium"\n';
  const cases: [string, string[], string][] = [
    ["run.ts", ["control-layernorm", "--tier", "medium"], tier],
    ["record.ts", ["--tier", "medium"], tier],
    ["report.ts", ["--tier", "medium"], tier],
    ["../../bench/runs.ts", ["--tier", "medium"], tier],
    [
      "run.ts",
      ["control-layernorm", "--backend", "gpu"],
      'error: --backend must be one of: auto, cpu, wasm, webgpu, got "gpu"\n',
    ],
    [
      "record.ts",
      ["--backend", "auto"],
      'error: --backend must be one of: cpu, wasm, webgpu, got "auto"\n',
    ],
    [
      "../../bench/main.ts",
      ["--backends", "cpu,gpu"],
      'error: --backends must be one of: cpu, wasm, webgpu, got "gpu"\n',
    ],
  ];
  for (const [script, args, line] of cases) {
    const r = await cli(script, ...args);
    assert.deepEqual([r.code, r.stderr], [2, line], `${script} ${args}`);
  }
});

Deno.test("run: kill -9 mid-run, run again: it resumes from the last checkpoint and ends bit-identical to the committed record", async () => {
  await withTempDir(async (dir) => {
    const args = [
      "run",
      "-A",
      new URL("run.ts", import.meta.url).pathname,
      "control-layernorm",
      "--backend",
      "cpu",
      "--out",
      dir,
      "--checkpoint-every",
      "50",
    ];
    const env = { NO_COLOR: "1", HORIZON_CACHE_DIR: `${dir}/cache` };
    const child = new Deno.Command(Deno.execPath(), {
      args,
      env,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Wait until the progress bar passes step 120, then kill without warning.
    const reader = child.stderr.getReader();
    let seen = "";
    while (!/ 1[2-9]\d\/300 | 2\d\d\/300 /.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stderr.cancel().catch(() => {});
    const checkpoints = async () =>
      (await listDir(`${dir}/cache/checkpoints`)).filter((n) =>
        n.endsWith(".ckpt")
      );
    assert.equal((await checkpoints()).length, 1);

    const again = await new Deno.Command(Deno.execPath(), {
      args,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(again.stderr);
    assert.equal(again.code, 0, stderr);
    assert.match(
      stderr,
      /note: resuming from the checkpoint at step (100|150|200)/,
    );
    const resumed = (await readRecord(
      `${dir}/control-layernorm/smoke-seed42-cpu.json`,
    ))!;
    const committed = (await readRecord(
      new URL(
        "../../reports/data/control-layernorm/smoke-seed42-cpu.json",
        import.meta.url,
      ).pathname,
    ))!;
    assert.equal(resumed.key, committed.key);
    assert.deepEqual(resumed.loss, committed.loss);
    assert.deepEqual(resumed.gradNorm, committed.gradNorm);
    assert.deepEqual(resumed.trajectory, committed.trajectory);
    assert.equal(
      resumed.final!.embeddingSha256,
      committed.final!.embeddingSha256,
    );
    assert.deepEqual(await checkpoints(), []);
  });
});
