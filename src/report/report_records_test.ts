// `deno task report` reads every sweep point's records (src/cli/report.ts).

import assert from "node:assert/strict";
import { join } from "node:path";
import { RecordError } from "../history/records.ts";
import { writeRecordFiles } from "../history/record_file.ts";
import type { RunRecord } from "../hypothesis/types.ts";
import { reportPoints, reportRecords } from "../cli/report.ts";
import { withTempDir } from "../testing/helpers.ts";
import { makeHypothesis, makeRun } from "../testing/records.ts";

/** A record that passes parseRecord: a SHA-256 key, a consistent identity. */
function validRecord(over: Partial<RunRecord>): RunRecord {
  const base = makeRun(over);
  return {
    ...base,
    key: String(base.seed).padStart(2, "0").repeat(32).slice(0, 64),
    identity: { ...base.identity, steps: base.steps, backend: base.backend },
  };
}

const SWEEP = makeHypothesis({
  sweep: [{ path: "noise.scale", values: [1e-7, 3e-6] }],
});

Deno.test("reportPoints() is the unmodified config and every sweep point", () => {
  assert.deepEqual(reportPoints(SWEEP), [
    "",
    "noise.scale=1e-7",
    "noise.scale=0.000003",
  ]);
  assert.deepEqual(reportPoints(makeHypothesis()), [""]);
});

Deno.test("reportRecords() reads every sweep point, full tier first, and names a malformed file", async () => {
  await withTempDir(async (dir) => {
    const at = join(dir, SWEEP.id);
    await Deno.mkdir(at);
    const put = (name: string, r: RunRecord) =>
      writeRecordFiles(join(at, name), r);
    await put("full-seed42-cpu.json", validRecord({ tier: "full" }));
    await put(
      "full-seed1-cpu-noise.scale=1e-7.json",
      validRecord({ tier: "full", seed: 1, overrides: ["noise.scale=1e-7"] }),
    );
    // Not a point of the sweep: left out.
    await put(
      "full-seed2-cpu-noise.scale=5e-7.json",
      validRecord({ tier: "full", seed: 2, overrides: ["noise.scale=5e-7"] }),
    );
    await put("smoke-seed42-cpu.json", validRecord({ tier: "smoke" }));
    const full = await reportRecords(SWEEP, undefined, dir);
    assert.deepEqual(
      full.map((r) => [r.tier, r.seed, r.overrides.join(" ")]),
      [["full", 42, ""], ["full", 1, "noise.scale=1e-7"]],
    );
    const smoke = await reportRecords(SWEEP, "smoke", dir);
    assert.deepEqual(smoke.map((r) => r.seed), [42]);
    // Without a sweep only the unmodified record counts.
    const plain = await reportRecords(makeHypothesis(), undefined, dir);
    assert.deepEqual(plain.map((r) => r.seed), [42]);
    const bad = join(at, "full-seed3-cpu-89abcdef.json");
    await Deno.writeTextFile(bad, "{");
    await assert.rejects(
      () => reportRecords(SWEEP, undefined, dir),
      (e: unknown) => e instanceof RecordError && e.message.includes(bad),
    );
  });
});
