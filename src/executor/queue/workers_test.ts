// The queue end to end: real `deno run src/cli/worker.ts` processes training
// real smoke runs (control-layernorm, 300 steps, 1 thread each) from a
// private redis-server. Each run is trained exactly once and its record
// equals a local run's; a resubmission is answered from the queue; a worker
// killed with SIGKILL in the middle of a pack of two runs loses nothing: the
// other worker resumes both from their Redis checkpoints and the records are
// bit-identical.

import assert from "node:assert/strict";
import { Queue } from "bullmq";
import { hypothesisById } from "../../../hypotheses/mod.ts";
import { executeRun } from "../execute.ts";
import { type PlannedRun, planRuns } from "../plan.ts";
import type { RunRecord } from "../../hypothesis/types.ts";
import { checkpointKey } from "./checkpoints.ts";
import { connectionOptions, parseRedisUrl } from "./connection.ts";
import { QUEUE_NAME } from "./jobs.ts";
import { startRedisServer } from "./redis_server.ts";
import { submitRuns } from "./submit.ts";
import { WorkerProcess } from "../../testing/worker_process.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What must not differ between a queue run and a local run. */
function science(r: RunRecord) {
  return {
    key: r.key,
    status: r.status,
    steps: r.steps,
    loss: r.loss,
    gradNorm: r.gradNorm,
    trajectory: r.trajectory,
    final: r.final,
    verdict: r.verdict,
    divergence: r.divergence,
  };
}

/** Local (in-process) records of the planned runs, computed once each, one at a time. */
const local = new Map<string, Promise<RunRecord>>();
let localTail: Promise<unknown> = Promise.resolve();
function localRecord(p: PlannedRun): Promise<RunRecord> {
  let r = local.get(p.spec.key);
  if (!r) {
    r = localTail.then(() =>
      executeRun(p.spec, {
        threads: 1,
        saveRecord: false,
        writeHistory: false,
        useCache: false,
      })
    );
    localTail = r.catch(() => {});
    local.set(p.spec.key, r);
  }
  return r;
}

const plan = await planRuns(hypothesisById("control-layernorm"), {
  tier: "smoke",
  backend: "cpu",
  seeds: [42, 1, 2],
});

Deno.test({
  name:
    "queue: two worker processes train three runs once each, records equal local runs; a resubmission is answered at once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const args = ["--threads", "1", "--checkpoint-every", "100"];
    const workers = [
      new WorkerProcess(server.url, { args }),
      new WorkerProcess(server.url, { args }),
    ];
    try {
      for (const w of workers) await w.ready(60_000);
      const t0 = performance.now();
      const results = await submitRuns(server.url, plan.map((p) => p.spec), {
        // The local runs train alongside, once the queue's are under way (a
        // core would idle in the queue's second round otherwise).
        onRunEvent: (e) => {
          if (e.type === "started") {
            for (const p of plan) localRecord(p).catch(() => {});
          }
        },
      });
      const wall = performance.now() - t0;

      // Each run started exactly once, and both workers took part.
      const starts = workers.map((w) => w.events("start"));
      for (const { spec } of plan) {
        const n = starts.flat().filter((l) => l.includes(spec.key.slice(0, 12)))
          .length;
        assert.equal(n, 1, `${spec.seed}: ${starts.flat().join("\n")}`);
      }
      assert.ok(starts.every((s) => s.length >= 1), String(starts));

      // Each record equals a local run's, field for field.
      const t1 = performance.now();
      for (const [i, p] of plan.entries()) {
        const r = results[i];
        assert.ok(r.type === "finished", JSON.stringify(r).slice(0, 200));
        assert.equal(r.replicas, 1); // trained for this submission, alone
        assert.deepEqual(science(r.record), science(await localRecord(p)));
      }
      const localWall = performance.now() - t1;

      // Submitting again re-runs nothing and answers at once.
      const t2 = performance.now();
      const again = await submitRuns(server.url, plan.map((p) => p.spec));
      const againMs = performance.now() - t2;
      assert.ok(againMs < 5000, `${againMs} ms`);
      assert.deepEqual(again, results.map((r) => ({ ...r, replicas: 0 })));
      await sleep(200);
      assert.equal(workers.flatMap((w) => w.events("start")).length, 3);
      console.log(
        `3 smoke runs on 2 queue workers: ${(wall / 1000).toFixed(1)} s; ` +
          `then waited ${
            (localWall / 1000).toFixed(1)
          } s for the local runs; ` +
          `resubmission ${againMs.toFixed(0)} ms`,
      );

      // SIGTERM: an idle worker exits promptly, 143.
      for (const w of workers) {
        const status = await w.stop("SIGTERM");
        assert.equal(status.code, 143, w.stderr.join("\n"));
        assert.ok(w.stderr.includes("stopped: SIGTERM"), w.stderr.join("\n"));
      }
    } finally {
      for (const w of workers) await w.stop("SIGKILL");
    }
  },
});

// ~45 s (a pack of two smoke runs, plus ~15 s until the dead worker's jobs
// count as stalled).
Deno.test({
  name:
    "queue: a worker killed mid-pack (SIGKILL) loses nothing; both runs resume on the other worker from their checkpoints, bit-identical",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const url = server.url;
    // Two runs packed by their submitter: one job each, trained together.
    const pack = plan.slice(0, 2).map((p) => ({ ...p.spec, replicas: 2 }));
    const labels = pack.map((s) => s.key.slice(0, 12));
    const args = ["--threads", "1", "--checkpoint-every", "50"];
    // The victim alone takes the pack; the survivor starts once it has.
    const victim = new WorkerProcess(url, { args });
    const workers = [victim];
    const queue = new Queue(QUEUE_NAME, {
      connection: connectionOptions(parseRedisUrl(url)),
    });
    try {
      await victim.ready(60_000);
      const t0 = performance.now();
      const result = submitRuns(url, pack);
      let settled = false;
      result.finally(() => settled = true).catch(() => {});
      for (const label of labels) {
        const start = await victim.waitFor(
          new RegExp(`start .*${label}`),
          60_000,
        );
        assert.match(start, /\(one of a pack of 2\)$/);
      }
      const survivor = new WorkerProcess(url, { args });
      workers.push(survivor);
      await survivor.ready(60_000);
      // Both runs' first checkpoints in Redis.
      const client = await queue.client;
      while (!settled) {
        const saved = await Promise.all(
          pack.map((s) => client.get(checkpointKey(s.key))),
        );
        if (saved.every((c) => c !== null)) break;
        await sleep(100);
      }
      assert.ok(
        !settled,
        "the pack finished without writing its checkpoints to Redis",
      );
      victim.child.kill("SIGKILL");
      const tKill = performance.now();
      await victim.child.done;
      const starts = [];
      for (const label of labels) {
        starts.push(
          await survivor.waitFor(new RegExp(`start .*${label}`), 60_000),
        );
      }
      const pickup = performance.now() - tKill;

      const results = await result;
      const wall = performance.now() - t0;
      const steps = [];
      for (const [i, label] of labels.entries()) {
        const resumed = await survivor.waitFor(
          new RegExp(`note .*${label}: resuming from the checkpoint at step`),
          1000,
        );
        const step = Number(resumed.match(/at step (\d+)$/)![1]);
        assert.ok(step > 0 && step % 50 === 0, resumed);
        steps.push(step);
        assert.match(starts[i], /\(abandoned 1x before\)$/);
        const r = results[i];
        assert.ok(r.type === "finished", JSON.stringify(r).slice(0, 200));
        assert.deepEqual(
          science(r.record),
          science(await localRecord(plan[i])),
        );
        assert.equal(await client.get(checkpointKey(pack[i].key)), null);
      }
      console.log(
        `killed after the pack's first checkpoints; the other worker took its runs ${
          (pickup / 1000).toFixed(1)
        } s later and resumed them from steps ${
          steps.join(" and ")
        }; submit to record ${(wall / 1000).toFixed(1)} s`,
      );
    } finally {
      await queue.close();
      for (const w of workers) await w.stop("SIGKILL");
    }
  },
});
