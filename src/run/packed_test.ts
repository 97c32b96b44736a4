// Packed runs: several runs of one step graph trained as replicates of one
// graph must leave exactly the records, histories and keys their solo runs
// leave (cpu: replicates are bit-identical to solo runs), keep their own
// checkpoints, and fail alone.

import assert from "node:assert/strict";
import { fileDigest } from "../io/file_digest.ts";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import { fileCheckpointStore } from "../history/checkpoint.ts";
import { parseOverride } from "../hypothesis/overrides.ts";
import { runHypothesisDetailed, runPackedDetailed } from "./run.ts";
import type { RunRecord } from "../hypothesis/types.ts";
import { runIdentity } from "../hypothesis/run_key.ts";
import { SEED_RUN } from "../step/config.ts";

const NOISY = tinyHypothesis("packed", {
  config: {
    maxSteps: 40,
    noise: { param: "transformer.wte.weight", scale: 3e-3 },
  },
  smokeSteps: 6,
  verdict: "positive",
});

/** Two seeds and a second noise scale: three runs, one graph. */
const RUNS = [
  { seed: 1, overrides: [] },
  { seed: 2, overrides: [] },
  { seed: 1, overrides: [parseOverride("noise.scale=1e-2")] },
];

function sameRecord(got: RunRecord, want: RunRecord, what: string): void {
  assert.equal(got.key, want.key, `${what}: key`);
  assert.deepEqual(got.loss, want.loss, `${what}: losses`);
  assert.deepEqual(got.gradNorm, want.gradNorm, `${what}: gradient norms`);
  assert.deepEqual(got.trajectory, want.trajectory, `${what}: trajectory`);
  assert.deepEqual(got.final, want.final, `${what}: final`);
  assert.equal(got.verdict, want.verdict, `${what}: verdict`);
}

Deno.test("runPackedDetailed: each packed run leaves its solo run's record and history", async () => {
  await withTempDir(async (dir) => {
    const solo = [];
    for (const [i, r] of RUNS.entries()) {
      solo.push(
        await runHypothesisDetailed(NOISY, {
          tier: "smoke",
          backend: "cpu",
          ...r,
          recordsDir: `${dir}/solo`,
          cacheDir: `${dir}/solo-cache-${i}`,
        }),
      );
    }
    const seen = RUNS.map(() => [] as number[]);
    const packed = await runPackedDetailed(
      RUNS.map((r, i) => ({
        hypothesis: NOISY,
        options: {
          tier: "smoke",
          backend: "cpu",
          ...r,
          replicas: RUNS.length,
          recordsDir: `${dir}/packed`,
          cacheDir: `${dir}/packed-cache-${i}`,
          checkpoints: {
            store: fileCheckpointStore(`${dir}/ckpt-${i}`),
            every: 3,
          },
          onStep: ({ step }) => void seen[i].push(step),
        },
      })),
    );
    for (const [i, p] of packed.entries()) {
      assert.ok(p.ok, `run ${i} failed: ${!p.ok && p.error}`);
      assert.equal(p.outcome.cached, false);
      assert.equal(p.outcome.replicas, 3, "trained as one pack of 3");
      sameRecord(p.outcome.record, solo[i].record, `run ${i}`);
      assert.deepEqual(
        await fileDigest(
          `${dir}/packed-cache-${i}/${p.outcome.record.history!.file}`,
        ),
        await fileDigest(
          `${dir}/solo-cache-${i}/${solo[i].record.history!.file}`,
        ),
        `run ${i}: history`,
      );
      assert.deepEqual(seen[i], [1, 2, 3, 4, 5, 6]);
      assert.equal(await fileCheckpointStore(`${dir}/ckpt-${i}`).load(), null);
    }
    // Packed again: every run comes from the cache.
    const again = await runPackedDetailed(
      RUNS.map((r) => ({
        hypothesis: NOISY,
        options: {
          tier: "smoke",
          backend: "cpu",
          ...r,
          recordsDir: `${dir}/packed`,
        },
      })),
    );
    assert.ok(again.every((p) => p.ok && p.outcome.cached));
  });
});

Deno.test("runPackedDetailed: a diverging run fails alone, with its record", async () => {
  await withTempDir(async (dir) => {
    const runs = [
      { seed: 1, overrides: [] },
      { seed: 1, overrides: [parseOverride("noise.scale=1e38")] },
    ];
    const packed = await runPackedDetailed(runs.map((r) => ({
      hypothesis: NOISY,
      options: {
        tier: "smoke" as const,
        backend: "cpu" as const,
        ...r,
        recordsDir: `${dir}/r`,
        cacheDir: `${dir}/c`,
      },
    })));
    assert.ok(packed[0].ok);
    assert.ok(!packed[1].ok);
    assert.match(String((packed[1] as { error: unknown }).error), /diverged/i);
  });
});

Deno.test("run key: packing re-keys a run only where replicates differ from solo runs", async () => {
  const inputs = {
    config: SEED_RUN,
    steps: 300,
    corpus: { sha256: "00", length: 265_905 },
    onnxruntime: "onnxruntime-web 1.30.0",
  };
  for (const backend of ["cpu", "wasm"] as const) {
    assert.equal(
      (await runIdentity({ ...inputs, backend, replicas: 8 })).key,
      (await runIdentity({ ...inputs, backend })).key,
      backend,
    );
  }
  const solo = await runIdentity({ ...inputs, backend: "webgpu" });
  const packed = await runIdentity({
    ...inputs,
    backend: "webgpu",
    replicas: 8,
  });
  assert.notEqual(packed.key, solo.key);
  assert.equal(packed.identity.replicas, 8);
  assert.equal(solo.identity.replicas, undefined);
  assert.notEqual(packed.identity.graphSha256, solo.identity.graphSha256);
});
