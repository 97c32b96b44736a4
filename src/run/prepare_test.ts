import assert from "node:assert/strict";
import { prepareRun, tierSteps } from "./prepare.ts";
import { tinyHypothesis } from "../testing/helpers.ts";
import { CorpusError } from "../data/corpus.ts";

Deno.test("prepareRun: --steps equal to the tier's length is the tier's run, one key in one file", async () => {
  // `run control-layernorm --seed 5 --steps 300` retrained and wrote
  // smoke-seed5-cpu-300steps.json beside smoke-seed5-cpu.json (same key).
  const h = tinyHypothesis("h", { smokeSteps: 4 });
  const options = {
    tier: "smoke" as const,
    backend: "cpu" as const,
    seed: 5,
    recordsDir: "/records",
  };
  const tier = await prepareRun(h, options);
  const same = await prepareRun(h, {
    ...options,
    steps: tierSteps(h, "smoke"),
  });
  assert.equal(same.key, tier.key);
  assert.equal(same.recordFile, tier.recordFile);
  assert.equal(tier.recordFile, "/records/h/smoke-seed5-cpu.json");
  const shorter = await prepareRun(h, { ...options, steps: 3 });
  assert.notEqual(shorter.key, tier.key);
  assert.equal(shorter.recordFile, "/records/h/smoke-seed5-cpu-3steps.json");
});

Deno.test("prepareRun: a corpus too short for one batch is refused before training, naming the minimum", async () => {
  const h = tinyHypothesis("h", { smokeSteps: 4 });
  const dir = await Deno.makeTempDir();
  try {
    const corpusPath = `${dir}/short.txt`;
    const minimum = h.config.seqLen + h.config.batchSize;
    await Deno.writeFile(corpusPath, new Uint8Array(minimum - 1).fill(97));
    await assert.rejects(
      prepareRun(h, { tier: "smoke", backend: "cpu", corpusPath }),
      (e: unknown) =>
        e instanceof CorpusError && e.code === "too-short" &&
        e.message.includes(`are needed for one batch of ${h.config.batchSize}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
