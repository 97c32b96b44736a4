import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "./report.ts";
import { UsageError } from "./errors.ts";
import { listDir, withTempDir } from "../testing/helpers.ts";

Deno.test("report --out DIR refuses, before writing anything, to replace a README.md it did not write", async () => {
  await withTempDir(async (dir) => {
    // `report control-layernorm --out .` in the project root: README.md is
    // the project's, not a reports index.
    const own = "# horizon\n\nReproducible experiments.\n";
    await Deno.writeTextFile(join(dir, "README.md"), own);
    await assert.rejects(
      main(["control-layernorm", "--out", dir]),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message.includes(`${join(dir, "README.md")} is not a reports index`),
    );
    assert.equal(await Deno.readTextFile(join(dir, "README.md")), own);
    assert.deepEqual(await listDir(dir), ["README.md"]);
  });
});

Deno.test("report --out DIR rewrites what it wrote there itself", async () => {
  await withTempDir(async (dir) => {
    assert.equal(await main(["control-layernorm", "--out", dir]), 0);
    const first = await Deno.readTextFile(join(dir, "README.md"));
    assert.equal(await main(["control-layernorm", "--out", dir]), 0);
    assert.equal(await Deno.readTextFile(join(dir, "README.md")), first);
    assert.ok((await listDir(dir)).includes("control-layernorm.md"));
  });
});
