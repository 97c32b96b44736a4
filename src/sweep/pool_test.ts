import assert from "node:assert/strict";
import { hypothesisById } from "../../hypotheses/mod.ts";
import { planRuns } from "../experiment/plan.ts";
import { readRecord } from "../experiment/records.ts";
import { RECORDS_DIR } from "../experiment/locations.ts";
import { withTempDir } from "../testing/helpers.ts";
import { type PoolEvent, runPool } from "./pool.ts";

Deno.test("a pool of 2 worker processes runs each planned run once; records equal the committed sequential ones", async () => {
  await withTempDir(async (dir) => {
    const specs = [];
    for (const id of ["control-layernorm", "11.2a-rmsnorm"]) {
      const [p] = await planRuns(hypothesisById(id), {
        tier: "smoke",
        backend: "cpu",
        seeds: [42],
        recordsDir: dir,
      });
      assert.equal(p.record, null, "nothing recorded in the empty directory");
      specs.push(p.spec);
    }
    const starts: string[] = [];
    const workersUsed = new Set<number>();
    const results = await runPool(specs, {
      workers: 2,
      recordsDir: dir,
      checkpointEvery: 0,
      onEvent: (e: PoolEvent) => {
        if (e.type === "start") {
          starts.push(e.spec.hypothesisId);
          workersUsed.add(e.worker);
        }
      },
    });
    assert.deepEqual(results.map((r) => r.status), ["done", "done"]);
    assert.deepEqual(starts.sort(), ["11.2a-rmsnorm", "control-layernorm"]);
    assert.equal(workersUsed.size, 2);
    for (const id of ["control-layernorm", "11.2a-rmsnorm"]) {
      const name = "smoke-seed42-cpu.json";
      const pooled = (await readRecord(`${dir}/${id}/${name}`))!;
      const committed = (await readRecord(`${RECORDS_DIR}/${id}/${name}`))!;
      assert.equal(pooled.key, committed.key);
      assert.deepEqual(pooled.loss, committed.loss);
      assert.equal(
        pooled.final!.embeddingSha256,
        committed.final!.embeddingSha256,
      );
      assert.equal(pooled.threads, 1, "the cores are split between workers");
    }
    // Planned again: both are recorded now, nothing is left to run.
    for (const id of ["control-layernorm", "11.2a-rmsnorm"]) {
      const [p] = await planRuns(hypothesisById(id), {
        tier: "smoke",
        backend: "cpu",
        seeds: [42],
        recordsDir: dir,
      });
      assert.notEqual(p.record, null);
    }
  });
});

Deno.test("shards of a plan are disjoint and cover it", async () => {
  const { shardOf } = await import("../experiment/plan.ts");
  const plan = Array.from({ length: 10 }, (_, i) => i);
  const parts = [1, 2, 3].map((i) => shardOf(plan, i, 3));
  assert.deepEqual(parts, [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]);
  assert.throws(() => shardOf(plan, 4, 3), /shard must be i\/n/);
});
