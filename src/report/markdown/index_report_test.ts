import assert from "node:assert/strict";
import { renderIndex } from "./index_report.ts";
import { checkTables } from "./_test_tables.ts";
import { makeHypothesis, makeRun } from "../../testing/records.ts";

Deno.test("renderIndex() lists each hypothesis with its link and outcome", () => {
  const md = renderIndex([
    {
      hypothesis: makeHypothesis(),
      runs: [makeRun()],
      file: "11.2b-jiggling.md",
    },
    {
      hypothesis: makeHypothesis({ id: "11.2a rms", title: "RMSNorm" }),
      runs: [],
      file: "11.2a rms.md",
    },
  ]);
  const rows = md.split("\n").filter((l) => l.startsWith("| ["));
  assert.deepEqual(rows, [
    "| [11.2b-jiggling](11.2b-jiggling.md) | Synthetic jiggling \\| noise | positive | positive | positive 1/1 (21–100%) | ✓ | 2 | 5 | smoke | cpu |",
    "| [11.2a rms](11.2a%20rms.md) | RMSNorm | positive | not run | — | — | — | — | — | — |",
  ]);
  assert.equal(checkTables(md), 1);
  assert.ok(md.startsWith("# Reports\n"));
});
