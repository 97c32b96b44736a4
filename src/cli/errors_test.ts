import assert from "node:assert/strict";
import {
  intOption,
  numberValue,
  parseCliArgs,
  threadsOption,
  UsageError,
} from "./errors.ts";
import { listDir, runScript, withTempDir } from "../testing/helpers.ts";

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    return e.message;
  }
  assert.fail("expected a UsageError");
}

Deno.test("intOption accepts plain decimal integers in range", () => {
  assert.equal(intOption("steps", undefined, { min: 1 }), undefined);
  assert.equal(intOption("steps", "20", { min: 1 }), 20);
  assert.equal(intOption("steps", "007", { min: 1 }), 7);
  assert.equal(intOption("seed", "0", { min: 0 }), 0);
  assert.ok(Object.is(intOption("x", "-0", { min: 0 }), 0), "no -0");
  assert.equal(intOption("x", "-3", { min: -5 }), -3);
  assert.equal(intOption("steps", "10000", { min: 1, max: 10000 }), 10000);
  assert.equal(
    intOption("seed", String(Number.MAX_SAFE_INTEGER), { min: 0 }),
    Number.MAX_SAFE_INTEGER,
  );
});

Deno.test("intOption refuses what Number() would accept", () => {
  for (
    const bad of [
      "1e1",
      "0x10",
      "0o7",
      "0b1",
      " 20",
      "20 ",
      "",
      "2.5",
      "20.",
      "+5",
      "1_000",
      "Infinity",
      "NaN",
      "1e300",
      "9007199254740993",
      "99999999999999999999",
    ]
  ) {
    assert.equal(
      usageMessage(() => intOption("steps", bad, { min: 1 })),
      `--steps must be an integer >= 1, got ${JSON.stringify(bad)}`,
    );
  }
});

Deno.test("intOption names both bounds when there is a maximum", () => {
  assert.equal(
    usageMessage(() => intOption("steps", "20000", { min: 1, max: 10000 })),
    '--steps must be an integer >= 1 and <= 10000, got "20000"',
  );
  assert.equal(
    usageMessage(() => intOption("steps", "0", { min: 1, max: 10000 })),
    '--steps must be an integer >= 1 and <= 10000, got "0"',
  );
  assert.equal(
    usageMessage(() => intOption("seed", "-1", { min: 0 })),
    '--seed must be an integer >= 0, got "-1"',
  );
});

Deno.test("threadsOption is bounded by this machine's cores", () => {
  const cores = navigator.hardwareConcurrency;
  assert.equal(threadsOption(undefined), undefined);
  assert.equal(threadsOption("1"), 1);
  assert.equal(threadsOption(String(cores)), cores);
  const s = cores === 1 ? "" : "s";
  for (const bad of [String(cores + 1), "0", "-1", "1e0", "two"]) {
    assert.equal(
      usageMessage(() => threadsOption(bad)),
      `--threads must be in 1..${cores} (this machine has ${cores} core${s}), got ${
        JSON.stringify(bad)
      }`,
    );
  }
});

Deno.test("numberValue takes decimal and scientific notation only", () => {
  const good: [string, number][] = [
    ["3e-4", 3e-4],
    ["1e-7", 1e-7],
    ["0.9", 0.9],
    ["-1", -1],
    ["1", 1],
    [".5", 0.5],
    ["-.5", -0.5],
    ["5.", 5],
    ["1E+7", 1e7],
    ["+2", 2],
    ["0", 0],
  ];
  for (const [text, n] of good) assert.equal(numberValue(text), n, text);
  for (
    const bad of [
      "",
      " ",
      " 1",
      "1 ",
      "1\n",
      "0x10",
      "0o7",
      "0b1",
      "Infinity",
      "-Infinity",
      "NaN",
      "1e400",
      "1_000",
      "1,5",
      "e5",
      ".",
      "-",
      "1e",
      "1.2.3",
      "--1",
    ]
  ) {
    assert.equal(
      usageMessage(() => numberValue(bad)),
      `expected a number (decimal or scientific notation, e.g. 0.9, -1, 3e-4), got ${
        JSON.stringify(bad)
      }`,
    );
  }
});

const OPTIONS = {
  steps: { type: "string", short: "s" },
  seed: { type: "string" },
  force: { type: "boolean" },
} as const;

Deno.test("parseCliArgs takes a negative number as an option's value", () => {
  assert.equal(parseCliArgs(["--steps", "-5"], OPTIONS).values.steps, "-5");
  assert.equal(parseCliArgs(["-s", "-5"], OPTIONS).values.steps, "-5");
  assert.equal(parseCliArgs(["--seed", "-0.5"], OPTIONS).values.seed, "-0.5");
  assert.equal(parseCliArgs(["--steps=-5"], OPTIONS).values.steps, "-5");
  const p = parseCliArgs(["id", "--steps", "-1e3", "--force"], OPTIONS, true);
  assert.deepEqual(p.positionals, ["id"]);
  assert.equal(p.values.steps, "-1e3");
  assert.equal(p.values.force, true);
  // After `--`, everything is a positional.
  assert.deepEqual(
    parseCliArgs(["--", "--steps", "-5"], OPTIONS, true).positionals,
    ["--steps", "-5"],
  );
  // ... and the value then meets the option's own check.
  const steps = parseCliArgs(["--steps", "-5"], OPTIONS).values.steps;
  assert.equal(
    usageMessage(() => intOption("steps", steps, { min: 1 })),
    '--steps must be an integer >= 1, got "-5"',
  );
});

Deno.test("parseCliArgs errors are one line and list the valid options", () => {
  const valid = "(valid options: --steps, --seed, --force, --help)";
  assert.equal(
    usageMessage(() => parseCliArgs(["--nope"], OPTIONS)),
    `Unknown option '--nope' ${valid}`,
  );
  // A non-numeric dash value is still refused, in one line.
  const ambiguous = usageMessage(() =>
    parseCliArgs(["--steps", "-x"], OPTIONS)
  );
  assert.ok(!ambiguous.includes("\n"), ambiguous);
  assert.match(ambiguous, /^Option '--steps' argument is ambiguous \(valid/);
  assert.match(
    usageMessage(() => parseCliArgs(["--steps"], OPTIONS)),
    /^Option '-s, --steps <value>' argument missing \(valid options: /,
  );
  assert.match(
    usageMessage(() => parseCliArgs(["stray"], OPTIONS)),
    /^Unexpected argument 'stray' \(valid options: /,
  );
  // A boolean option never swallows a number.
  assert.match(
    usageMessage(() => parseCliArgs(["--force", "-5"], OPTIONS)),
    /^Unknown option '-5' \(valid options: /,
  );
});

const ERRORS = new URL("./errors.ts", import.meta.url).href;
const LIFELINE = new URL("../process/lifeline.ts", import.meta.url).href;
const SAFETENSORS = new URL("../io/safetensors/mod.ts", import.meta.url).href;

async function script(dir: string, body: string): Promise<string> {
  const path = `${dir}/cli.ts`;
  await Deno.writeTextFile(
    path,
    `import { runCli, UsageError } from ${JSON.stringify(ERRORS)};
import { stopSignal } from ${JSON.stringify(LIFELINE)};
import { createSafetensorsStreamWriter } from ${JSON.stringify(SAFETENSORS)};
${body}`,
  );
  return path;
}

Deno.test("runCli: whatever is thrown ends as one error line", async () => {
  await withTempDir(async (dir) => {
    let r = await runScript(
      await script(dir, `await runCli(async () => { throw "a string"; });`),
      [],
    );
    assert.deepEqual([r.code, r.stderr], [1, "error: a string\n"]);
    r = await runScript(
      await script(
        dir,
        `await runCli(async () => { throw new Error("two\\n  lines"); });`,
      ),
      [],
    );
    assert.deepEqual([r.code, r.stderr], [1, "error: two lines\n"]);
    r = await runScript(
      await script(
        dir,
        `await runCli(async () => { throw new UsageError("u"); });`,
      ),
      [],
    );
    assert.deepEqual([r.code, r.stderr], [2, "error: u\n"]);
  });
});

Deno.test(
  "runCli: a run stopped by SIGINT ends 'stopped: SIGINT', exit 130, no temporary files",
  {
    ignore: Deno.build.os === "windows",
  },
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/out`;
      await Deno.mkdir(out);
      const path = await script(
        dir,
        `await runCli(async () => {
  const signal = stopSignal();
  // A history being streamed, not aborted by this CLI: the exit removes it.
  await createSafetensorsStreamWriter(Deno.args[0] + "/h.safetensors", {
    tensors: [{ name: "x", dtype: "F32", shape: [4] }],
  });
  console.log("ready");
  while (true) {
    signal.throwIfAborted(); // a training loop
    await new Promise((r) => setTimeout(r, 20));
  }
});`,
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", path, out],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      try {
        assert.equal((await reader.read()).value, "ready\n");
        assert.equal((await listDir(out)).length, 1);
        child.kill("SIGINT");
        const [status, stderr] = await Promise.all([
          child.status,
          new Response(child.stderr).text(),
        ]);
        assert.equal(stderr, "stopped: SIGINT\n");
        assert.equal(status.code, 130);
        assert.deepEqual(await listDir(out), []);
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* already ended */ }
        await reader.cancel();
      }
    });
  },
);
