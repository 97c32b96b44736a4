// Packs on the queue: each run of a pack is its own BullMQ job (id = run
// key), queued side by side; a worker that takes one takes its mates and
// trains them together; each run gets its own result, progress and Redis
// checkpoint. Fake packs (milliseconds) test the bookkeeping; a real pack of
// a tiny hypothesis tests that its records equal solo runs'. Skipped when
// redis-server is not installed.

import assert from "node:assert/strict";
import { Queue } from "bullmq";
import {
  type ExecuteOptions,
  type ExecuteResult,
  executeRun,
  executeRuns,
} from "../execute.ts";
import { packRuns, planRuns, type RunSpec } from "../plan.ts";
import { RunStoppedError } from "../../run/run.ts";
import { DivergedError } from "../../runtime/divergence.ts";
import { PACK_TINY } from "../../testing/pack_hypotheses.ts";
import { checkpointKey } from "./checkpoints.ts";
import { connectionOptions, parseRedisUrl } from "./connection.ts";
import { QUEUE_NAME } from "./jobs.ts";
import { startRedisServer } from "./redis_server.ts";
import type { RunEvent } from "../events.ts";
import { submitRuns } from "./submit.ts";
import { collectEvents } from "./test_events.ts";
import { startWorkerWith as startWorker, type WorkerJob } from "./worker.ts";
import { fakeRecord, fakeSpec, sleep } from "../../testing/fake_runs.ts";

const HAVE_REDIS = await new Deno.Command("redis-server", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

/**
 * A fake executeRuns training a pack in lock step: 20 steps of 25 ms for
 * `slow` runs (a checkpoint every `every` steps holding the step, resumed
 * from it with a note as a real run makes; stops on its signal), `diverge`
 * diverges at step 3, `fail-once`
 * fails its first time, anything else completes at once.
 */
function fakePacks() {
  const calls = new Map<string, number>();
  const resumedFrom = new Map<string, number>();
  const jobs: string[][] = [];
  const executePack = async (
    specs: readonly RunSpec[],
    o: ExecuteOptions,
  ): Promise<ExecuteResult[]> => {
    jobs.push(specs.map((s) => s.key));
    const results: (ExecuteResult | undefined)[] = specs.map(() => undefined);
    const start: number[] = [];
    for (const [i, s] of specs.entries()) {
      const n = (calls.get(s.key) ?? 0) + 1;
      calls.set(s.key, n);
      const saved = await o.checkpoints!.store(s, i).load();
      start.push(saved ? saved[0] : 0);
      if (saved) {
        resumedFrom.set(s.key, saved[0]);
        await o.onEvent?.({
          type: "note",
          spec: s,
          text: `resuming from the checkpoint at step ${saved[0]}`,
        });
      }
      if (s.hypothesisId === "fail-once" && n === 1) {
        results[i] = { ok: false, error: new Error("out of\nmemory") };
      } else if (s.hypothesisId !== "slow" && s.hypothesisId !== "diverge") {
        results[i] = { ok: true, record: fakeRecord(s), replicas: 1 };
      }
    }
    const steps = 20;
    for (let step = 1; step <= steps; step++) {
      const live = specs.flatMap((_, i) => results[i] === undefined ? [i] : []);
      if (live.length === 0) break;
      if (o.signal?.aborted) {
        for (const i of live) {
          results[i] = {
            ok: false,
            error: new RunStoppedError(step - 1, steps, "stop"),
          };
        }
        break;
      }
      await sleep(25);
      for (const i of live) {
        if (step <= start[i]) continue;
        if (specs[i].hypothesisId === "diverge" && step === 3) {
          results[i] = {
            ok: false,
            error: new DivergedError(
              { step: 3, quantity: "loss", value: NaN },
              { losses: new Float32Array(3), gradNorms: new Float32Array(3) },
            ),
          };
          continue;
        }
        await o.onEvent?.({
          type: "progress",
          spec: specs[i],
          step,
          steps,
          loss: 5 - step / 10,
        });
        if (step % o.checkpoints!.every === 0) {
          await o.checkpoints!.store(specs[i], i).save(new Uint8Array([step]));
        }
        if (step === steps) {
          results[i] = {
            ok: true,
            record: fakeRecord(specs[i], steps),
            replicas: live.length,
          };
        }
      }
    }
    return results as ExecuteResult[];
  };
  return { executePack, calls, resumedFrom, jobs };
}

/** `specs` as one pack: each spec says it trains with all of them. */
const packOf = (...specs: RunSpec[]): RunSpec[] =>
  specs.map((s) => ({ ...s, replicas: specs.length }));

Deno.test({
  name:
    "queue (fake packs): one job per run; a worker trains a pack's runs together; a divergence fails alone; a resubmission reuses them, or requeues the failed run alone",
  ignore: !HAVE_REDIS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const fake = fakePacks();
    const workerEvents: [RunEvent, WorkerJob][] = [];
    const queue = new Queue(QUEUE_NAME, {
      connection: connectionOptions(parseRedisUrl(server.url)),
    });
    // Queued before any worker runs, so the worker finds them side by side.
    const [a, d, s] = packOf(
      fakeSpec("ok"),
      fakeSpec("diverge"),
      fakeSpec("slow"),
    );
    const alone = fakeSpec("ok");
    const { events, listen } = collectEvents();
    const submitted = submitRuns(server.url, [a, d, s, alone], {
      ...listen,
      pollMs: 60_000,
    });
    while (events.filter((e) => e.type === "queued").length < 4) {
      await sleep(10);
    }
    const worker = await startWorker(server.url, {
      executePack: fake.executePack,
      checkpointEvery: 5,
      onRunEvent: (e, job) => workerEvents.push([e, job]),
    });
    try {
      const first = await submitted;
      // replicas: what the worker says trained together (the pack's other
      // runs ended before the slow one's last step), not the spec's 3.
      assert.deepEqual(first, [
        { type: "finished", spec: a, record: fakeRecord(a), replicas: 1 },
        { type: "diverged", spec: d, message: "diverged at step 3 (loss NaN)" },
        { type: "finished", spec: s, record: fakeRecord(s, 20), replicas: 1 },
        {
          type: "finished",
          spec: alone,
          record: fakeRecord(alone),
          replicas: 1,
        },
      ]);
      assert.deepEqual(fake.jobs, [[a.key, d.key, s.key], [alone.key]]);
      for (const spec of [a, s, alone]) {
        assert.equal(await queue.getJobState(spec.key), "completed");
      }
      assert.equal(await queue.getJobState(d.key), "failed");
      assert.deepEqual(
        workerEvents.flatMap(([e, job]) =>
          e.type === "started" ? [job.pack.length] : []
        ),
        [3, 3, 3, 1],
      );
      // The slow run's progress came through its own job.
      const progress = events.flatMap((e) =>
        e.type === "progress" && e.spec.key === s.key ? [e.step] : []
      );
      assert.equal(progress.at(-1), 20);
      assert.equal(await (await queue.client).get(checkpointKey(s.key)), null);

      // Again: answered from the queue, nothing trains.
      const again = await submitRuns(server.url, [a, d, s, alone], {
        pollMs: 60_000,
      });
      assert.deepEqual(
        again,
        first.map((r) => r.type === "finished" ? { ...r, replicas: 0 } : r),
      );
      assert.equal(fake.jobs.length, 2);

      // A run of a pack that failed otherwise is queued again, alone.
      const [f, b] = packOf(fakeSpec("fail-once"), fakeSpec("ok"));
      const [ff, fb] = await submitRuns(server.url, [f, b], {
        pollMs: 60_000,
      });
      assert.deepEqual(ff, {
        type: "failed",
        spec: f,
        message: "out of memory",
      });
      assert.deepEqual(fb, {
        type: "finished",
        spec: b,
        record: fakeRecord(b),
        replicas: 1,
      });
      const requeued = collectEvents();
      const [rf, rb] = await submitRuns(server.url, [f, b], {
        ...requeued.listen,
        pollMs: 60_000,
      });
      assert.deepEqual(rf, {
        type: "finished",
        spec: f,
        record: fakeRecord(f),
        replicas: 1,
      });
      assert.deepEqual(rb, { ...fb, replicas: 0 });
      assert.deepEqual(
        requeued.events.flatMap((e) =>
          e.type === "requeued" ? [e.spec.key] : []
        ),
        [f.key],
      );
      assert.deepEqual(fake.jobs.slice(2), [[f.key, b.key], [f.key]]);
    } finally {
      await queue.close();
      await worker.close();
    }
  },
});

Deno.test({
  name:
    "queue (fake packs): runs packed differently by two submitters train once; a job that is not a pack mate goes back to the head of the queue",
  ignore: !HAVE_REDIS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const fake = fakePacks();
    const [p, q, r, t] = ["ok", "ok", "ok", "ok"].map(fakeSpec);
    // One submitter packs p, q, r; another q, r, t (cpu keys do not name
    // the pack, so both name the same runs) and then u on its own.
    const u = fakeSpec("ok");
    const { events: queued, listen } = collectEvents();
    const one = submitRuns(server.url, packOf(p, q, r), {
      ...listen,
      pollMs: 60_000,
    });
    while (queued.filter((e) => e.type === "queued").length < 3) {
      await sleep(10);
    }
    const two = submitRuns(server.url, [...packOf(q, r, t), u], {
      ...listen,
      pollMs: 60_000,
    });
    while (queued.filter((e) => e.type !== "queued").length < 2) {
      await sleep(10);
    }
    assert.deepEqual(
      queued.flatMap((e) => e.type === "found" ? [e.spec.key] : []),
      [q.key, r.key],
      "the second submitter found q and r queued",
    );
    while (queued.filter((e) => e.type === "queued").length < 5) {
      await sleep(10);
    }
    const worker = await startWorker(server.url, {
      executePack: fake.executePack,
    });
    try {
      const [first, second] = await Promise.all([one, two]);
      for (const x of [...first, ...second]) {
        assert.ok(x.type === "finished", x.type);
        assert.deepEqual(x.record, fakeRecord(x.spec));
      }
      assert.deepEqual(
        [...fake.calls.values()],
        [1, 1, 1, 1, 1],
        "every run trained once",
      );
      // p q r (a full pack of 3), then t: its pack mates were trained
      // already, and u (packed alone) is not its mate: it went back to
      // the head of the queue and trained next, alone.
      assert.deepEqual(fake.jobs, [[p.key, q.key, r.key], [t.key], [u.key]]);
    } finally {
      await worker.close();
    }
  },
});

Deno.test({
  name:
    "queue (fake packs): a stopped worker's pack resumes on another, each run from its own checkpoint",
  ignore: !HAVE_REDIS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const fake = fakePacks();
    const eventsA = collectEvents();
    const a = await startWorker(server.url, {
      executePack: fake.executePack,
      checkpointEvery: 4,
      progressEveryMs: 50,
      ...eventsA.listen,
    });
    const [s1, s2] = packOf(fakeSpec("slow"), fakeSpec("slow"));
    const { events, listen } = collectEvents();
    const results = submitRuns(server.url, [s1, s2], {
      ...listen,
      pollMs: 60_000,
    });
    while (
      !events.some((e) =>
        e.type === "progress" && e.spec.key === s2.key && e.step >= 9
      )
    ) await sleep(20);
    await a.close();
    assert.equal(
      eventsA.events.filter((e) => e.type === "stopped").length,
      2,
      JSON.stringify(eventsA.events),
    );
    const eventsB = collectEvents();
    const b = await startWorker(server.url, {
      executePack: fake.executePack,
      checkpointEvery: 4,
      ...eventsB.listen,
    });
    try {
      const [r1, r2] = await results;
      assert.deepEqual(r1, {
        type: "finished",
        spec: s1,
        record: fakeRecord(s1, 20),
        replicas: 2,
      });
      assert.deepEqual(r2, { ...r1, spec: s2, record: fakeRecord(s2, 20) });
      for (const s of [s1, s2]) {
        const from = fake.resumedFrom.get(s.key)!;
        assert.ok(from >= 8 && from % 4 === 0, `resumed from ${from}`);
        assert.ok(
          eventsB.events.some((e) =>
            e.type === "note" && e.spec.key === s.key &&
            e.text === `resuming from the checkpoint at step ${from}`
          ),
        );
      }
      assert.deepEqual(fake.jobs, [[s1.key, s2.key], [s1.key, s2.key]]);
    } finally {
      await b.close();
    }
  },
});

Deno.test({
  name:
    "queue: a real pack of 3 tiny runs trains as one graph; each record equals its solo run's; Redis checkpoints cleared",
  ignore: !HAVE_REDIS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const plan = await planRuns(PACK_TINY, { tier: "smoke", backend: "cpu" });
    const packs = await packRuns(plan.map((p) => ({ ...p, record: null })), 3);
    assert.deepEqual(packs.map((p) => p.length), [3, 1]);
    const replicas: number[] = [];
    const worker = await startWorker(server.url, {
      threads: 1,
      checkpointEvery: 2,
      executePack: async (specs, o) => {
        const r = await executeRuns(specs, {
          ...o,
          hypothesis: () => PACK_TINY,
        });
        for (const x of r) if (x.ok) replicas.push(x.replicas);
        return r;
      },
    });
    const queue = new Queue(QUEUE_NAME, {
      connection: connectionOptions(parseRedisUrl(server.url)),
    });
    try {
      const results = await submitRuns(server.url, packs.flat(), {
        pollMs: 1000,
      });
      assert.deepEqual(replicas, [3, 3, 3, 1]);
      const client = await queue.client;
      for (const [i, spec] of packs.flat().entries()) {
        const r = results[i];
        assert.ok(r.type === "finished", JSON.stringify(r).slice(0, 200));
        assert.equal(r.replicas, packs[i < 3 ? 0 : 1].length);
        const solo = await executeRun(spec, {
          threads: 1,
          saveRecord: false,
          writeHistory: false,
          useCache: false,
          hypothesis: () => PACK_TINY,
        });
        const got = r.record;
        assert.equal(got.key, solo.key);
        assert.deepEqual(got.loss, solo.loss);
        assert.deepEqual(got.gradNorm, solo.gradNorm);
        assert.deepEqual(got.trajectory, solo.trajectory);
        assert.deepEqual(got.final, solo.final);
        assert.equal(await client.get(checkpointKey(spec.key)), null);
      }
    } finally {
      await queue.close();
      await worker.close();
    }
  },
});
