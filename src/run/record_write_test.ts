import assert from "node:assert/strict";
import { withTempDir } from "../testing/helpers.ts";
import { makeRun } from "../testing/records.ts";
import { InconsistentRecordError, writeRecord } from "./record_write.ts";

Deno.test("a record that contradicts itself is refused in one line and nothing is written", async () => {
  await withTempDir(async (dir) => {
    const good = makeRun();
    // makeRun's trajectory records steps 0, 5, 10, 15 and 20: a first split
    // at step 55 (a checkpoint edited by its key holder) is none of them.
    const edited = {
      ...good,
      trajectory: { ...good.trajectory, firstSplit: 55 },
    };
    const path = `${dir}/h/smoke-seed42-cpu.json`;
    await assert.rejects(
      writeRecord(path, edited, { checkpoint: `${dir}/k.ckpt` }),
      (e: unknown) =>
        e instanceof InconsistentRecordError &&
        e.message ===
          `refusing to write the record ${path}: trajectory.firstSplit 55 is not a recorded step; nothing was written; the checkpoint ${dir}/k.ckpt is kept for inspection (resuming from it writes the same record: remove it to train from step 0)`,
    );
    await assert.rejects(
      writeRecord(path, edited),
      /^InconsistentRecordError: refusing to write the record \S+: trajectory\.firstSplit 55 is not a recorded step; nothing was written$/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no file, no folder");
    await writeRecord(path, good);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/h`)].map((e) => e.name).sort(),
      ["smoke-seed42-cpu.json", "smoke-seed42-cpu.safetensors.gz"],
    );
  });
});
