import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript, withTempDir } from "../testing/helpers.ts";

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
