// README's "Write your own hypothesis", run as written: its commands and its
// config edit, in a temporary copy of the project (so nothing lands in this
// checkout's hypotheses/, experiments/ or reports/), on a config shrunk to
// context 16, batch 2 and 4 smoke steps so it takes seconds, not minutes.

import assert from "node:assert/strict";
import { withTempDir } from "../testing/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The README section's sh commands and its ts edit. */
async function walkthrough(): Promise<{ commands: string[]; edit: string }> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf("## Write your own hypothesis");
  assert.ok(start >= 0, "README has no 'Write your own hypothesis' section");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const block = (lang: string) =>
    section.match(new RegExp("```" + lang + "\\n([\\s\\S]*?)```"))?.[1] ?? "";
  const commands = block("sh").split("\n").filter((l) => l.startsWith("deno "));
  const edit = block("ts").split("\n").find((l) =>
    l.includes("SEED_RUN.") && !l.includes("...SEED_RUN,")
  );
  assert.ok(edit, "the section's ts block has no config line");
  return { commands, edit: edit.trim() };
}

/** Copies what the CLIs need (tracked and new files) and links node_modules. */
async function copyProject(to: string): Promise<void> {
  const out = await new Deno.Command("git", {
    args: [
      "ls-files",
      "--cached",
      "--others",
      "--exclude-standard",
      "--",
      "deno.json",
      "package.json",
      "src",
      "hypotheses",
      "experiments",
      "fixtures/corpus",
    ],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const files = new TextDecoder().decode(out.stdout).split("\n").filter(
    Boolean,
  );
  for (const f of files) {
    const target = `${to}/${f}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
      recursive: true,
    });
    try {
      await Deno.copyFile(`${ROOT}${f}`, target);
    } catch (e) {
      // A file deleted in the working tree but still in the index.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  await Deno.symlink(`${ROOT}node_modules`, `${to}/node_modules`);
}

async function deno(dir: string, command: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: command.split(" ").slice(1),
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", HORIZON_CACHE_DIR: `${dir}/.cache` },
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${command} failed:\n${text}`);
  return text;
}

Deno.test("README's 'Write your own hypothesis' runs as written", async () => {
  const { commands, edit } = await walkthrough();
  const [create, ...rest] = commands;
  const id = create.match(/^deno task new (\S+) --from \S+$/)?.[1];
  assert.ok(id, `the first command is not 'deno task new': ${create}`);
  assert.deepEqual(rest.map((c) => c.replace(id, "<id>")), [
    "deno task run <id> --tier smoke",
    "deno task record <id> --tier smoke",
    "deno test -A experiments/<id>_test.ts",
  ]);
  await withTempDir(async (dir) => {
    await copyProject(dir);
    await deno(dir, create);
    const file = `${dir}/hypotheses/${id}.ts`;
    const source = await Deno.readTextFile(file);
    assert.match(source, /question: "TODO: /);
    // The README's edit, then the test's shrinking (after it, so it wins).
    const tiny =
      "model: { ...SEED_RUN.model, context: 16 }, batchSize: 2, seqLen: 16,";
    const edited = source
      .replace("...SEED_RUN,\n", `...SEED_RUN,\n    ${edit}\n    ${tiny}\n`)
      .replace(/smoke: \{\n {4}steps: \d+,/, "smoke: {\n    steps: 4,");
    assert.notEqual(edited, source);
    assert.match(edited, /steps: 4,/);
    await Deno.writeTextFile(file, edited);
    for (const command of rest) await deno(dir, command);
    const outcomes = await Deno.readTextFile(
      `${dir}/reports/data/${id}/outcomes.json`,
    );
    assert.match(outcomes, /"tier": ?"smoke"/);
    // The gate kept the run it trained: with the record gone, `run` takes
    // the kept one instead of training again.
    await Deno.remove(`${dir}/reports/data/${id}/smoke-seed42-cpu.json`);
    const again = await deno(dir, rest[0]);
    assert.match(again, /using the record of this run kept in the cache/);
    assert.match(again, /\(cached: same run key/);
  });
});
