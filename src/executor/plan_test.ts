// Packing a plan: runs share a pack only when they can share one step
// graph; on cpu a packed run keeps its solo key, on webgpu its key names
// the pack size, and the planner recognises such records as done.

import assert from "node:assert/strict";
import { PACK_TINY } from "../testing/pack_hypotheses.ts";
import {
  tinyHypothesis,
  webgpuForTests,
  withTempDir,
} from "../testing/helpers.ts";
import { writeRecordFiles } from "../history/record_file.ts";
import { readRecord, recordPath } from "../history/records.ts";
import { executeRuns } from "./execute.ts";
import {
  adoptKeptRuns,
  defaultPack,
  packRuns,
  planRuns,
  type RunSpec,
  sameRun,
} from "./plan.ts";
import { prepareRun } from "../run/prepare.ts";
import { runHypothesis } from "../run/run.ts";
import { parseOverride } from "../hypothesis/overrides.ts";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";

/** 2 noise scales x 2 learning rates x 2 seeds: two step graphs (lr). */
const TWO_GRAPHS: Hypothesis = {
  ...PACK_TINY,
  id: "pack-two-graphs",
  sweep: [
    { path: "noise.scale", values: [3e-3, 1e-2] },
    { path: "adamw.lr", values: [1e-3, 2e-3] },
  ],
};

Deno.test("packRuns: plan order, up to `pack` runs of one step graph per pack; recorded runs left out; cpu keys unchanged", async () => {
  const plan = await planRuns(TWO_GRAPHS, {
    tier: "smoke",
    backend: "cpu",
    recordsDir: "/nonexistent",
  });
  assert.equal(plan.length, 8);
  const label = (i: number) => `${plan[i].point} seed ${plan[i].spec.seed}`;
  const lrOf = (i: number) => plan[i].spec.overrides[1];
  // A record of the first run: it is done, so no pack holds it.
  const withRecord = plan.map((p, i) =>
    i === 0 ? { ...p, record: {} as RunRecord } : p
  );
  const packs = await packRuns(withRecord, 3);
  const index = (key: string) => plan.findIndex((p) => p.spec.key === key);
  const asIndices = packs.map((p) => p.map((s) => index(s.key)));
  // Plan: 0-1 (3e-3, lr 1e-3), 2-3 (3e-3, 2e-3), 4-5 (1e-2, 1e-3), 6-7.
  assert.deepEqual(
    asIndices,
    [[1, 4, 5], [2, 3, 6], [7]],
    asIndices.map((p) => p.map(label).join(" | ")).join("\n"),
  );
  for (const p of asIndices) {
    assert.equal(new Set(p.map(lrOf)).size, 1, "one step graph per pack");
  }
  for (const pack of packs) {
    for (const s of pack) {
      const planned = plan[index(s.key)].spec;
      assert.deepEqual(
        s,
        pack.length > 1 ? { ...planned, replicas: pack.length } : planned,
      );
    }
  }
  assert.deepEqual(
    (await packRuns(plan, 1)).map((p) => p.map((s) => index(s.key))),
    plan.map((_, i) => [i]),
  );
  await assert.rejects(packRuns(plan, 0), /pack must be an integer >= 1/);
  assert.equal(defaultPack("cpu"), 1);
  assert.equal(defaultPack("wasm"), 1);
  assert.equal(defaultPack("webgpu"), 8);
});

Deno.test({
  name:
    "packRuns on webgpu: a pack's keys name its size; its records count as done when planned again",
  ignore: !(await webgpuForTests()),
  fn: async () => {
    await withTempDir(async (dir) => {
      const plan = await planRuns(PACK_TINY, {
        tier: "smoke",
        backend: "webgpu",
        recordsDir: dir,
      });
      const packs = await packRuns(plan, 3);
      assert.deepEqual(packs.map((p) => p.length), [3, 1]);
      for (const [i, s] of packs[0].entries()) {
        assert.equal(s.replicas, 3);
        assert.notEqual(s.key, plan[i].spec.key);
        const again = await prepareRun(PACK_TINY, {
          tier: "smoke",
          backend: "webgpu",
          seed: s.seed,
          overrides: s.overrides.map(parseOverride),
          replicas: 3,
        });
        assert.equal(again.key, s.key);
        assert.equal(again.identity.replicas, 3);
      }
      assert.deepEqual(packs[1], [plan[3].spec], "alone: its solo key");
      assert.equal(packs[1][0].replicas, undefined);

      const results = await executeRuns(packs[0], {
        recordsDir: dir,
        cacheDir: `${dir}/cache`,
        hypothesis: () => PACK_TINY,
      });
      for (const r of results) {
        assert.ok(r.ok, !r.ok ? String(r.error) : "");
        assert.equal(r.replicas, 3);
      }
      const replanned = await planRuns(PACK_TINY, {
        tier: "smoke",
        backend: "webgpu",
        recordsDir: dir,
      });
      assert.deepEqual(
        replanned.map((p) => [p.record !== null, p.spec.key]),
        [...packs[0].map((s) => [true, s.key]), [false, plan[3].spec.key]],
      );
      assert.deepEqual(await packRuns(replanned, 3), [[plan[3].spec]]);
      // Two of the pack, alone, train in the graph of 3 their keys name (a
      // ghost replicate fills the third place) and end where they ended in
      // the full pack.
      const padded = await executeRuns(packs[0].slice(0, 2), {
        recordsDir: `${dir}/padded`,
        cacheDir: `${dir}/cache`,
        hypothesis: () => PACK_TINY,
        useCache: false,
      });
      for (const [i, r] of padded.entries()) {
        assert.ok(r.ok, !r.ok ? String(r.error) : "");
        assert.equal(r.replicas, 3);
        const full = results[i];
        assert.ok(full.ok);
        assert.equal(r.record.key, full.record.key);
        assert.deepEqual(r.record.loss, full.record.loss);
        assert.deepEqual(r.record.final, full.record.final);
        assert.deepEqual(r.record.trajectory, full.record.trajectory);
      }
    });
  },
});

Deno.test("planRuns: the sweep point that is the hypothesis's own config is recorded by the unmodified run's record (same key)", async () => {
  // `sweep 11.2f-noise-sweep --dry-run` listed seed 42 at 3e-7 as to run
  // although smoke-seed42-cpu.json holds that key.
  await withTempDir(async (dir) => {
    const own = await runHypothesis(PACK_TINY, {
      tier: "smoke",
      backend: "cpu",
      recordsDir: dir,
      cacheDir: `${dir}/cache`,
    });
    const plan = await planRuns(PACK_TINY, {
      tier: "smoke",
      backend: "cpu",
      recordsDir: dir,
    });
    const recorded = plan.filter((p) => p.record !== null);
    assert.deepEqual(
      recorded.map((p) => [p.point, p.spec.seed, p.spec.key]),
      [["noise.scale=0.003", PACK_TINY.config.seed, own.key]],
    );
    assert.equal(recorded[0].record?.key, own.key);
    assert.equal((await packRuns(plan, 1)).length, plan.length - 1);
  });
});

Deno.test("sameRun: one run and one key; a pack's shared key alone is not enough", () => {
  const a: RunSpec = {
    hypothesisId: "h",
    tier: "smoke",
    seed: 1,
    overrides: ["noise.scale=1e-8"],
    backend: "webgpu",
    key: "k".repeat(64),
    replicas: 2,
  };
  assert.equal(sameRun(a, a), true);
  // A copy, as parsed back from a job's event line.
  assert.equal(sameRun(a, JSON.parse(JSON.stringify(a))), true);
  // Its pack mate: the same key (it names the pack), another seed.
  assert.equal(sameRun(a, { ...a, seed: 2 }), false);
  assert.equal(sameRun(a, { ...a, overrides: [] }), false);
  // The same run under another key (another pack size).
  assert.equal(sameRun(a, { ...a, key: "j".repeat(64) }), false);
});

Deno.test("planRuns marks a run kept in a shared cache; adoptKeptRuns takes it into this records folder, and only with its key", async () => {
  await withTempDir(async (dir) => {
    const h = tinyHypothesis("plan-kept");
    const cacheDir = `${dir}/cache`;
    const base = { tier: "smoke", backend: "cpu" } as const;
    // Trained for checkout A's records folder.
    const trained = await runHypothesis(h, {
      ...base,
      recordsDir: `${dir}/a`,
      cacheDir,
    });
    const planB = () =>
      planRuns(h, { ...base, recordsDir: `${dir}/b`, cacheDir });
    const [p] = await planB();
    assert.equal(p.record, null);
    assert.equal(p.kept, true);
    const [elsewhere] = await planRuns(h, {
      ...base,
      recordsDir: `${dir}/b`,
      cacheDir: `${dir}/empty-cache`,
    });
    assert.equal(elsewhere.kept, false, "another cache keeps nothing");
    // Dry planning wrote nothing; adopting does.
    assert.equal(await readRecord(p.prepared.recordFile), null);
    const taken = await adoptKeptRuns([p], { cacheDir });
    assert.equal(taken.adopted, 1);
    assert.equal(taken.plan[0].record?.key, trained.key);
    assert.equal(taken.plan[0].kept, false);
    const [after] = await planB();
    assert.equal(after.record?.key, trained.key);
    assert.equal(after.kept, false);
    assert.deepEqual(
      await Deno.readFile(p.prepared.recordFile),
      await Deno.readFile(recordPath(`${dir}/a`, p.prepared.name)),
    );
    // A kept record of another key (older code, another corpus) is no
    // stand-in for this run.
    const kept = recordPath(`${cacheDir}/kept`, p.prepared.name);
    await writeRecordFiles(kept, { ...trained, key: "0".repeat(64) });
    assert.equal((await readRecord(kept))?.key, "0".repeat(64), "readable");
    const [other] = await planRuns(h, {
      ...base,
      recordsDir: `${dir}/c`,
      cacheDir,
    });
    assert.equal(other.kept, false);
    assert.equal((await adoptKeptRuns([other], { cacheDir })).adopted, 0);
  });
});
