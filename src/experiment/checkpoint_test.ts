import assert from "node:assert/strict";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import { fileCheckpointStore } from "./checkpoint.ts";
import { fileDigest, runHypothesisDetailed, RunStoppedError } from "./run.ts";

/** Tiny, with noise (so the noise stream's position matters on resume). */
const TINY = tinyHypothesis("resume-check", {
  config: {
    maxSteps: 40,
    noise: { param: "transformer.wte.weight", scale: 3e-3 },
  },
  smokeSteps: 10,
  verdict: "positive",
});

Deno.test("a run stopped at any step resumes from its last checkpoint and ends bit-identical", async () => {
  await withTempDir(async (dir) => {
    const plain = await runHypothesisDetailed(TINY, {
      tier: "smoke",
      backend: "cpu",
      recordsDir: `${dir}/plain`,
      cacheDir: `${dir}/plain-cache`,
    });
    const plainHistory = await fileDigest(
      `${dir}/plain-cache/${plain.record.history!.file}`,
    );
    for (const stopAt of [2, 4, 7]) {
      const store = fileCheckpointStore(`${dir}/ckpt-${stopAt}`);
      const where = {
        recordsDir: `${dir}/r${stopAt}`,
        cacheDir: `${dir}/c${stopAt}`,
      };
      const controller = new AbortController();
      await assert.rejects(
        runHypothesisDetailed(TINY, {
          tier: "smoke",
          backend: "cpu",
          ...where,
          checkpoints: { store, every: 3 },
          signal: controller.signal,
          onStep: ({ step }) => {
            if (step === stopAt) controller.abort("test stop");
          },
        }),
        RunStoppedError,
      );
      assert.equal(
        (await store.load()) !== null,
        stopAt >= 3,
        "a checkpoint exists once a multiple of 3 steps ran",
      );
      const notes: string[] = [];
      const resumed = await runHypothesisDetailed(TINY, {
        tier: "smoke",
        backend: "cpu",
        ...where,
        checkpoints: { store, every: 3 },
        onNote: (n) => notes.push(n),
      });
      if (stopAt >= 3) {
        assert.match(
          notes.join("\n"),
          /resuming from the checkpoint at step 3|resuming from the checkpoint at step 6/,
        );
      }
      const a = plain.record, b = resumed.record;
      assert.deepEqual(b.loss, a.loss, `losses (stopped at ${stopAt})`);
      assert.deepEqual(b.gradNorm, a.gradNorm);
      assert.deepEqual(b.trajectory, a.trajectory);
      assert.deepEqual(b.final, a.final);
      assert.equal(b.key, a.key);
      assert.deepEqual(
        await fileDigest(`${dir}/c${stopAt}/${b.history!.file}`),
        plainHistory,
        "the history file is bit-identical too",
      );
      assert.equal(await store.load(), null, "the checkpoint is cleared");
    }
  });
});
