import assert from "node:assert/strict";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  fileCheckpointStore,
  type RunCheckpoint,
} from "./checkpoint.ts";
import { fileDigest } from "../io/file_digest.ts";
import { runHypothesisDetailed, RunStoppedError } from "../run/run.ts";

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

// fixtures/checkpoint/v1.safetensors is a checkpoint of format 1 (no content
// digest): it is refused, never resumed from.
const V1 = new URL("../../fixtures/checkpoint/v1.safetensors", import.meta.url);
const V1_KEY =
  "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

Deno.test("a checkpoint of the older format is refused; the current one round-trips to the same bytes", async () => {
  const bytes = await Deno.readFile(V1);
  assert.throws(
    () => decodeCheckpoint(bytes, V1_KEY),
    (e: Error) =>
      e instanceof CheckpointError &&
      /format "horizon-checkpoint\/1", not horizon-checkpoint\/2/.test(
        e.message,
      ),
  );
  const c: RunCheckpoint = {
    key: V1_KEY,
    trainer: {
      step: 3,
      state: {
        params: new Float32Array([0.5, -1.25, 3, 0.1]),
        m: new Float32Array(4),
        v: new Float32Array([1e-6, 2e-6, 0, 5]),
      },
      host: { step: 3 } as RunCheckpoint["trainer"]["host"],
      losses: new Float32Array([5.5, 5.25, 5.125]),
      gradNorms: new Float32Array([1, 2, 3]),
    },
    trajectory: {
      step: [0, 3],
      C: [1, 2],
      P: [51, 50],
      centroidNorm: [0.125, 0.1 + 0.2],
    },
    firstSplit: 3,
    firstEscape: null,
    firstEmbedding: new Float32Array([1, 2]),
    historyBytes: 64,
    historySha256: "ab".repeat(32),
  };
  const encoded = encodeCheckpoint(c);
  const decoded = decodeCheckpoint(encoded, V1_KEY);
  assert.deepEqual(decoded, c);
  assert.deepEqual(encodeCheckpoint(decoded), encoded);
  assert.throws(
    () => decodeCheckpoint(encoded, "another key"),
    CheckpointError,
  );
});
