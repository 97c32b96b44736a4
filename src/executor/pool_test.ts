import assert from "node:assert/strict";
import { hypothesisById } from "../../hypotheses/mod.ts";
import { packRuns, planRuns } from "./plan.ts";
import { readRecord, recordPath } from "../history/records.ts";
import { RECORDS_DIR } from "../history/locations.ts";
import { listDir, withTempDir } from "../testing/helpers.ts";
import type { RunEvent } from "./events.ts";
import { type PoolJob, runPool } from "./pool.ts";
import { PACK_TINY } from "../testing/pack_hypotheses.ts";

const FIXTURE = new URL("../testing/pack_hypotheses.ts", import.meta.url).href;

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
      // Its own cache: the project's may keep these runs (a gate test's),
      // which the workers would take instead of training.
      cacheDir: `${dir}/.cache`,
      checkpointEvery: 0,
      onEvent: (e, job) => {
        if (e.type === "started") {
          starts.push(e.spec.hypothesisId);
          workersUsed.add(job.worker);
        }
      },
    });
    assert.deepEqual(results.map((r) => r.type), ["finished", "finished"]);
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
  const { shardOf } = await import("./plan.ts");
  const plan = Array.from({ length: 10 }, (_, i) => i);
  const parts = [1, 2, 3].map((i) => shardOf(plan, i, 3));
  assert.deepEqual(parts, [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]);
  assert.throws(() => shardOf(plan, 4, 3), /shard must be i\/n/);
});

Deno.test("a pool of packs (pack 3, cpu) leaves records bit-identical to an unpacked pool's; checkpoints per run, cleared", async () => {
  await withTempDir(async (dir) => {
    const plan = await planRuns(PACK_TINY, {
      tier: "smoke",
      backend: "cpu",
      recordsDir: `${dir}/solo`,
    });
    assert.equal(plan.length, 4);
    const packs = await packRuns(plan, 3);
    // Plan order (point, then seed), filled up to 3; cpu keys unchanged.
    assert.deepEqual(packs.map((p) => p.length), [3, 1]);
    assert.deepEqual(
      packs.flat().map((s) => s.key),
      plan.map((p) => p.spec.key),
    );
    const common = {
      workers: 2,
      checkpointEvery: 2,
      hypothesesModule: FIXTURE,
    };
    const solo = await runPool(plan.map((p) => p.spec), {
      ...common,
      recordsDir: `${dir}/solo`,
      cacheDir: `${dir}/solo-cache`,
    });
    const replicas = (r: (typeof solo)[number]) =>
      r.type === "finished" ? r.replicas : r.message;
    assert.deepEqual(solo.map(replicas), [1, 1, 1, 1]);
    const events: [RunEvent, PoolJob][] = [];
    const packed = await runPool(packs, {
      ...common,
      recordsDir: `${dir}/packed`,
      cacheDir: `${dir}/packed-cache`,
      onEvent: (e, job) => events.push([e, job]),
    });
    assert.deepEqual(
      packed.map((r) => [r.spec.key, replicas(r)]),
      packs.flatMap((p) => p.map((s) => [s.key, p.length])),
    );
    // One job per pack, on its own worker; every run reports its steps.
    const starts = events.filter(([e]) => e.type === "started");
    assert.deepEqual(starts.map(([, job]) => job.pack.length), [3, 3, 3, 1]);
    assert.equal(new Set(starts.slice(0, 3).map(([, j]) => j.worker)).size, 1);
    for (const s of packs.flat()) {
      assert.ok(
        events.some(([e]) =>
          e.type === "progress" && e.spec.key === s.key && e.step === 6
        ),
        `last step of ${s.seed} ${s.overrides}`,
      );
    }
    for (const p of plan) {
      const got =
        (await readRecord(recordPath(`${dir}/packed`, p.prepared.name)))!;
      const want = (await readRecord(p.prepared.recordFile))!;
      const what = `seed ${p.spec.seed} ${p.point}`;
      assert.equal(got.key, want.key, what);
      assert.deepEqual(got.loss, want.loss, what);
      assert.deepEqual(got.gradNorm, want.gradNorm, what);
      assert.deepEqual(got.trajectory, want.trajectory, what);
      assert.deepEqual(got.final, want.final, what);
    }
    assert.deepEqual(
      (await listDir(`${dir}/packed-cache/checkpoints`)).filter((n) =>
        n.endsWith(".ckpt")
      ),
      [],
    );
    // Planned again against the packed records: nothing is left to run.
    const again = await planRuns(PACK_TINY, {
      tier: "smoke",
      backend: "cpu",
      recordsDir: `${dir}/packed`,
    });
    assert.ok(again.every((p) => p.record !== null));
    assert.deepEqual(await packRuns(again, 3), []);
  });
});

Deno.test("a job stopped from outside stops the pool: no further job starts", async () => {
  await withTempDir(async (dir) => {
    const plan = await planRuns(PACK_TINY, {
      tier: "full",
      backend: "cpu",
      recordsDir: dir,
    });
    assert.equal(plan.length, 4);
    const first = plan[0].spec.key;
    const started: string[] = [];
    let killed = false;
    const results = await runPool(plan.map((p) => p.spec), {
      workers: 1,
      recordsDir: dir,
      cacheDir: `${dir}/cache`,
      checkpointEvery: 0,
      hypothesesModule: FIXTURE,
      onEvent: (e) => {
        if (e.type === "started") started.push(e.spec.key);
        // What a sweep's jobs see when its parent process ends: SIGTERM to
        // the job alone, the pool's own signal never aborted. The job is
        // found by this test's own temporary folder in its arguments, so no
        // other process can match.
        if (e.type === "progress" && !killed) {
          killed = true;
          new Deno.Command("pkill", { args: ["-TERM", "-f", dir] })
            .outputSync();
        }
      },
    });
    assert.deepEqual(started, [first]);
    assert.deepEqual(results.map((r) => [r.spec.key, r.type]), [
      [first, "stopped"],
    ]);
  });
});
