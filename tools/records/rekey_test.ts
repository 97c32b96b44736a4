// deno task rekey rewrites committed science records, so each of its paths
// is checked on a tiny hypothesis: a smoke-verified seed, a full record of a
// seed with no smoke record, a sweep point and a shorter run (`--steps N`) are
// re-keyed only when their re-run is bit-identical, and a record with one
// altered loss is refused.

import assert from "node:assert/strict";
import { tinyHypothesis, withTempDir } from "../../src/testing/helpers.ts";
import { runHypothesisDetailed } from "../../src/run/run.ts";
import { parseOverride } from "../../src/hypothesis/overrides.ts";
import { rekey } from "./rekey.ts";
import { readRecord } from "../../src/history/records.ts";
import {
  readRecordObject,
  removeRecordFiles,
  writeRecordFiles,
} from "../../src/history/record_file.ts";
import type { RunRecord } from "../../src/hypothesis/types.ts";

const H = tinyHypothesis("rekey-tiny", {
  config: {
    maxSteps: 12,
    noise: { param: "transformer.wte.weight", scale: 3e-3 },
  },
  smokeSteps: 4,
  verdict: "positive",
});

/** Writes the records a hypothesis would commit; returns their paths. */
async function recordRuns(dir: string): Promise<string[]> {
  const runs = [
    { tier: "smoke" as const, seed: 42, overrides: [] },
    { tier: "full" as const, seed: 42, overrides: [] },
    { tier: "full" as const, seed: 7, overrides: [] },
    {
      tier: "full" as const,
      seed: 42,
      overrides: [parseOverride("noise.scale=1e-2")],
    },
    // Named `-<N>steps` (like the committed 10,000-step 11.2f records),
    // plain and at a sweep point.
    { tier: "full" as const, seed: 7, overrides: [], steps: 8 },
    {
      tier: "full" as const,
      seed: 42,
      overrides: [parseOverride("noise.scale=1e-2")],
      steps: 8,
    },
    // `deno task run <id> --steps 3`: a smoke record shorter than the tier,
    // of the seed whose smoke record verifies the others.
    { tier: "smoke" as const, seed: 42, overrides: [], steps: 3 },
  ];
  const paths: string[] = [];
  for (const r of runs) {
    const out = await runHypothesisDetailed(H, {
      ...r,
      backend: "cpu",
      recordsDir: dir,
      cacheDir: `${dir}/cache`,
      writeHistory: false,
    });
    paths.push(out.path!);
  }
  return paths;
}

/** Rewrites the record at `path` changed by `change`, its digests made anew. */
async function edit(
  path: string,
  change: (r: Record<string, unknown>) => void,
): Promise<void> {
  const r = (await readRecordObject(path))!;
  change(r);
  await writeRecordFiles(path, r as unknown as RunRecord);
}

const read = async (p: string) =>
  (await readRecordObject(p, { legacy: true }))!;

Deno.test("rekey: stale keys are restored after bit-identical re-runs, on every path", async () => {
  await withTempDir(async (dir) => {
    const paths = await recordRuns(dir);
    const original = await Promise.all(paths.map(read));
    for (const p of paths) {
      await edit(p, (r) => void (r.key = "0".repeat(64)));
    }
    // One of them in format 2 (arrays inline), as records were before.
    const legacy = { ...await read(paths[1]), format: 2 };
    await removeRecordFiles(paths[1]);
    await Deno.writeTextFile(paths[1], JSON.stringify(legacy) + "\n");
    assert.deepEqual(
      paths.slice(-3).map((p) => p.split("/").pop()),
      [
        "full-seed7-cpu-8steps.json",
        "full-seed42-cpu-8steps-noise.scale=0.01.json",
        "smoke-seed42-cpu-3steps.json",
      ],
    );
    await rekey(dir, H);
    const after = await Promise.all(paths.map((p) => readRecord(p)));
    for (const [i, got] of after.entries()) {
      const want = original[i] as unknown as RunRecord;
      assert.equal(got!.format, 3);
      assert.equal(got!.key, want.key, paths[i]);
      assert.deepEqual(got!.loss, want.loss);
      assert.deepEqual(got!.final, want.final);
    }
  });
});

Deno.test("rekey: a record whose numbers a re-run does not reproduce is refused, for each path", async () => {
  await withTempDir(async (dir) => {
    const paths = await recordRuns(dir);
    const [smoke, , noSmoke, point] = paths;
    for (const target of [smoke, noSmoke, point, paths.at(-1)!]) {
      const before = await read(target);
      await edit(target, (r) => {
        const loss = r.loss as number[];
        loss[2] = loss[2] + 1e-3;
      });
      await assert.rejects(rekey(dir, H), /loss at step 3 differs/);
      await writeRecordFiles(target, before as unknown as RunRecord);
    }
  });
});

Deno.test("rekey: a diverged record is re-keyed only when its re-run diverges the same way", async () => {
  await withTempDir(async (dir) => {
    const [smoke] = await recordRuns(dir);
    const run = {
      tier: "full" as const,
      seed: 42,
      overrides: [parseOverride("adamw.lr=1e6")],
      backend: "cpu" as const,
      recordsDir: dir,
      cacheDir: `${dir}/cache`,
      writeHistory: false,
    };
    await assert.rejects(runHypothesisDetailed(H, run), /diverged at step/);
    const path = smoke.replace(
      "smoke-seed42-cpu.json",
      "full-seed42-cpu-adamw.lr=1e6.json",
    );
    const original = (await readRecord(path))!;
    assert.equal(original.status, "diverged");
    await edit(path, (r) => void (r.key = "0".repeat(64)));
    await rekey(dir, H);
    const after = (await readRecord(path))!;
    assert.equal(after.key, original.key);
    assert.equal(after.status, "diverged");
    assert.equal(after.verdict, "invalid");
    assert.equal(after.final, null);
    assert.deepEqual(after.divergence, original.divergence);
    assert.deepEqual(after.loss, original.loss);
    // A diverged record whose first loss was edited is refused, and so is
    // one that says it diverged in another quantity.
    const stale = (r: Record<string, unknown>) => void (r.key = "0".repeat(64));
    await edit(path, (r) => {
      stale(r);
      (r.loss as number[])[0] += 1e-3;
    });
    await assert.rejects(rekey(dir, H), /loss at step 1 differs/);
    await writeRecordFiles(path, original);
    await edit(path, (r) => {
      stale(r);
      r.divergence = { ...original.divergence!, quantity: "gradient norm" };
    });
    await assert.rejects(
      rekey(dir, H),
      /divergence \(step \d+ gradient norm, re-run step \d+ loss\)/,
    );
  });
});
