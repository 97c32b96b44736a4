import assert from "node:assert/strict";
import { HYPOTHESES } from "../../hypotheses/mod.ts";
import { listDir, runScript, withTempDir } from "../testing/helpers.ts";
import { UsageError } from "./errors.ts";
import { main, registeredIds, registrySource } from "./new.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A project root holding a copy of the registry and the gate tests. */
async function fakeRoot(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/hypotheses`);
  await Deno.mkdir(`${dir}/experiments`);
  await Deno.copyFile(
    `${ROOT}hypotheses/registry.ts`,
    `${dir}/hypotheses/registry.ts`,
  );
  await Deno.copyFile(
    `${ROOT}experiments/11.2d-jiggling-tiny_test.ts`,
    `${dir}/experiments/11.2d-jiggling-tiny_test.ts`,
  );
}

/** Every file under `dir` with its text. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const sub of ["hypotheses", "experiments"]) {
    for (const name of await listDir(`${dir}/${sub}`)) {
      out[`${sub}/${name}`] = await Deno.readTextFile(`${dir}/${sub}/${name}`);
    }
  }
  return out;
}

Deno.test("the registry lists every hypothesis file, in report order", async () => {
  const text = await Deno.readTextFile(`${ROOT}hypotheses/registry.ts`);
  // Generated text: `new` can read it back and rewrite it unchanged.
  assert.equal(registrySource(registeredIds(text)), text);
  assert.deepEqual(registeredIds(text), HYPOTHESES.map((h) => h.id));
  const files = (await listDir(`${ROOT}hypotheses`))
    .filter((f) => f.endsWith(".ts") && f !== "mod.ts" && f !== "registry.ts")
    .map((f) => f.slice(0, -3));
  assert.deepEqual(
    [...registeredIds(text)].sort(),
    files,
    "a hypothesis file is not registered (deno task new registers it)",
  );
  // The committed reports index lists them in this order.
  const index = await Deno.readTextFile(`${ROOT}reports/README.md`);
  const indexed = [...index.matchAll(/^\| \[([^\]]+)\]\(\1\.md\)/gm)].map((m) =>
    m[1]
  );
  assert.deepEqual(indexed, HYPOTHESES.map((h) => h.id));
  assert.equal(HYPOTHESES[0].id, "control-layernorm");
});

Deno.test("new writes the hypothesis, its gate test and its registration", async () => {
  await withTempDir(async (dir) => {
    await fakeRoot(dir);
    const log = console.log;
    console.log = () => {};
    try {
      assert.equal(
        await main(["11.3a-test", "--from", "11.2d-jiggling-tiny"], {
          root: `${dir}/`,
        }),
        0,
      );
    } finally {
      console.log = log;
    }
    const h = await Deno.readTextFile(`${dir}/hypotheses/11.3a-test.ts`);
    assert.match(h, /id: "11\.3a-test",/);
    for (const field of ["title", "question", "background", "findings"]) {
      assert.match(h, new RegExp(`${field}: "TODO: `), field);
    }
    assert.match(h, /design:\s+"TODO: /);
    assert.match(h, /reasoning:\s+"TODO: /);
    // The source's config: the seeds' run with its noise.
    assert.match(h, /\.\.\.SEED_RUN,\n\s+noise: \{/);
    assert.match(h, /scale: 3e-8,/);
    assert.match(h, /control: "11\.2d-jiggling-tiny",/);
    const test = await Deno.readTextFile(
      `${dir}/experiments/11.3a-test_test.ts`,
    );
    assert.match(
      test,
      /import hypothesis from "\.\.\/hypotheses\/11\.3a-test\.ts";/,
    );
    // The source's gate test states null at both tiers.
    assert.match(
      test,
      /gateHypothesis\(hypothesis, \{ smoke: "null", full: "null" \}\);/,
    );
    const registry = await Deno.readTextFile(`${dir}/hypotheses/registry.ts`);
    assert.deepEqual(registeredIds(registry), [
      ...HYPOTHESES.map((x) => x.id),
      "11.3a-test",
    ]);
  });
});

Deno.test("new: a taken id, a bad id or an unknown --from writes nothing", async () => {
  await withTempDir(async (dir) => {
    await fakeRoot(dir);
    await Deno.writeTextFile(`${dir}/experiments/orphan_test.ts`, "");
    const before = await snapshot(dir);
    const cases: [string[], RegExp][] = [
      [["control-layernorm", "--from", "11.2a-rmsnorm"], /exists/],
      [["orphan", "--from", "11.2a-rmsnorm"], /exists \(experiments/],
      [["Bad_Id", "--from", "11.2a-rmsnorm"], /bad hypothesis id "Bad_Id"/],
      [["a..b", "--from", "11.2a-rmsnorm"], /bad hypothesis id/],
      [["registry", "--from", "11.2a-rmsnorm"], /bad hypothesis id/],
      [["fresh", "--from", "nope"], /unknown hypothesis "nope"/],
      [["fresh"], /--from <existing-id> is required/],
      [[], /expected one new hypothesis id/],
      [["fresh", "--from", "x", "--bogus"], /bogus/],
    ];
    for (const [args, message] of cases) {
      await assert.rejects(
        main(args, { root: `${dir}/` }),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
        args.join(" "),
      );
    }
    assert.deepEqual(await snapshot(dir), before);
  });
});

Deno.test("new: a mistake is one line and exit 2; --help shows the next steps", async () => {
  const script = new URL("./new.ts", import.meta.url).pathname;
  const bad = await runScript(script, [
    "control-layernorm",
    "--from",
    "11.2a-rmsnorm",
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: hypothesis "control-layernorm" exists/);
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  const help = await runScript(script, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task new <id> --from <existing-id>/);
  assert.match(help.stdout, /deno task record <id> --tier smoke/);
});
