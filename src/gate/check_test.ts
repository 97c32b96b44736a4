import assert from "node:assert/strict";
import { assertOutcomesExist, gateRun } from "./check.ts";
import { adoptKeptRecord, keptRecordsDir } from "../history/kept_records.ts";
import { readRecord, recordPath } from "../history/records.ts";
import { prepareRun } from "../run/prepare.ts";
import { runHypothesis, runHypothesisDetailed } from "../run/run.ts";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("a gate with no recorded outcome names the run and record commands", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      assertOutcomesExist(tinyHypothesis("fresh"), "smoke", dir),
      (e: Error) =>
        e.message.includes("no recorded smoke outcome (nothing was trained)") &&
        e.message.includes("`deno task run fresh --tier smoke`") &&
        e.message.includes("`deno task record fresh --tier smoke`"),
    );
  });
  // The committed hypotheses have theirs.
  await assertOutcomesExist(
    { ...tinyHypothesis("control-layernorm") },
    "smoke",
  );
});

Deno.test("a gate test with no recorded outcome fails before it trains", async () => {
  await withTempDir(async (dir) => {
    // 40,000 steps of the seeds' model would take over an hour: the test
    // can only end in seconds if it fails before training.
    const test = `${dir}/gate_test.ts`;
    await Deno.writeTextFile(
      test,
      `import { gateHypothesis } from "${ROOT}src/gate/check.ts";
import { SEED_RUN } from "${ROOT}src/step/config.ts";
gateHypothesis({
  id: "no-outcome-yet", title: "", question: "", background: "", design: "",
  config: { ...SEED_RUN, maxSteps: 40000 },
  expectation: { verdict: "null", reasoning: "" },
  smoke: { steps: 40000, justification: "" },
}, { smoke: "null", full: "null" });
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", "--config", `${ROOT}deno.json`, test],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", HORIZON_CACHE_DIR: `${dir}/cache` },
      // Killed (and the test failed) if it trains instead.
      signal: AbortSignal.timeout(120_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0);
    assert.match(text, /no recorded smoke outcome \(nothing was trained\)/);
    assert.match(text, /deno task run no-outcome-yet --tier smoke/);
  });
});

Deno.test("a smoke run the gate trains is kept for deno task run to adopt", async () => {
  await withTempDir(async (dir) => {
    const h = tinyHypothesis("kept");
    const cacheDir = `${dir}/cache`, recordsDir = `${dir}/records`;
    const run = await runHypothesis(h, {
      tier: "smoke",
      backend: "cpu",
      ...gateRun("smoke", cacheDir),
    });
    const p = await prepareRun(h, {
      tier: "smoke",
      backend: "cpu",
      recordsDir,
    });
    const kept = await readRecord(recordPath(keptRecordsDir(cacheDir), p.name));
    assert.equal(kept?.key, p.key);
    assert.ok(kept?.history, "the kept run names its history");
    // Nothing in the records yet: `run` adopts the kept run, then finds it
    // cached instead of training.
    assert.equal(await readRecord(p.recordFile), null);
    assert.equal(
      await adoptKeptRecord(p.recordFile, p.name, p.key, { cacheDir }),
      true,
    );
    const again = await runHypothesisDetailed(h, {
      tier: "smoke",
      backend: "cpu",
      recordsDir,
      cacheDir,
    });
    assert.equal(again.cached, true);
    assert.deepEqual(again.record.loss, run.loss);
    // A record of that key is there now: nothing more to adopt.
    assert.equal(
      await adoptKeptRecord(p.recordFile, p.name, p.key, { cacheDir }),
      false,
    );
    // Another key (another seed's run) is never adopted.
    const other = await prepareRun(h, {
      tier: "smoke",
      backend: "cpu",
      seed: 7,
      recordsDir,
    });
    assert.equal(
      await adoptKeptRecord(other.recordFile, p.name, other.key, { cacheDir }),
      false,
    );
  });
});

Deno.test("a full-tier gate run is neither kept nor recorded", () => {
  assert.deepEqual(gateRun("full", "/c"), {
    useCache: false,
    saveRecord: false,
    writeHistory: false,
  });
  assert.equal(gateRun("smoke", "/c").recordsDir, "/c/kept");
});
