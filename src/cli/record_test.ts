import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript, withTempDir } from "../testing/helpers.ts";
import { makeDiverged } from "../testing/records.ts";
import { copyRecordFiles, writeRecordFiles } from "../history/record_file.ts";
import { readRecord } from "../history/records.ts";

const RECORD = new URL("./record.ts", import.meta.url).pathname;

Deno.test("record --dir: a missing directory or a file is one line and exit 2, before any work", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "a-file");
    await Deno.writeTextFile(file, "x");
    for (
      const [where, message] of [
        [join(dir, "nonexistent"), "does not exist"],
        [file, "is not a directory"],
      ]
    ) {
      const r = await runScript(RECORD, ["--dir", where]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, `error: --dir ${where} ${message}\n`);
    }
  });
});

Deno.test("record: a diverged run record is named, leaves its hypothesis's outcomes alone, and the others are still recorded (exit 1)", async () => {
  await withTempDir(async (dir) => {
    // The control first: a diverged record used to stop the whole command
    // there, before the next hypothesis was recorded.
    await writeRecordFiles(
      join(dir, "control-layernorm", "smoke-seed42-cpu.json"),
      makeDiverged(42, {
        hypothesisId: "control-layernorm",
        key: "0".repeat(64),
        trajectory: {
          step: [0],
          C: [1],
          P: [4],
          centroidNorm: [1],
          firstSplit: null,
          firstEscape: null,
        },
      }),
    );
    const committed = "reports/data/11.2a-rmsnorm/smoke-seed42-cpu.json";
    await copyRecordFiles(
      committed,
      join(dir, "11.2a-rmsnorm", "smoke-seed42-cpu.json"),
    );
    const r = await runScript(RECORD, [
      "control-layernorm",
      "11.2a-rmsnorm",
      "--tier",
      "smoke",
      "--dir",
      dir,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: control-layernorm smoke seed 42 \(cpu\) diverged at step 2 \(loss non-finite\)$/m,
    );
    assert.match(r.stderr, /^error: 1 diverged run record\(s\)$/m);
    assert.ok(!/at .*\.ts:\d+/.test(r.stderr), "no stack trace");
    assert.equal(
      await Deno.stat(join(dir, "control-layernorm", "outcomes.json")).then(
        () => true,
        () => false,
      ),
      false,
      "no outcomes for the diverged hypothesis",
    );
    const outcomes = JSON.parse(
      await Deno.readTextFile(join(dir, "11.2a-rmsnorm", "outcomes.json")),
    );
    const record = (await readRecord(committed))!;
    assert.deepEqual(
      JSON.stringify(outcomes).includes(record.key),
      true,
      "the other hypothesis's smoke outcome is recorded",
    );
  });
});
