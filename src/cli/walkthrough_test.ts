// README's "Write your own hypothesis", run as written: its commands and its
// config edit, in a temporary copy of the project (so nothing lands in this
// checkout's hypotheses/, experiments/ or reports/), on a config shrunk to
// context 16, batch 2 and 4 smoke steps so it takes seconds, not minutes.

import assert from "node:assert/strict";
import { withTempDir } from "../testing/helpers.ts";
import { copyProject, denoIn } from "../testing/project_copy.ts";

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
    await denoIn(dir, create);
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
    for (const command of rest) await denoIn(dir, command);
    const outcomes = await Deno.readTextFile(
      `${dir}/reports/data/${id}/outcomes.json`,
    );
    assert.match(outcomes, /"tier": ?"smoke"/);
    // The gate kept the run it trained: with the record gone, `run` takes
    // the kept one instead of training again.
    await Deno.remove(`${dir}/reports/data/${id}/smoke-seed42-cpu.json`);
    const again = await denoIn(dir, rest[0]);
    assert.match(again, /using the record of this run kept in the cache/);
    assert.match(again, /\(cached: same run key/);
  });
});
