// The queue's logic with fake runs (milliseconds each) and in-process
// workers on a private redis-server: one job per run key, stored results,
// divergence as a failure, retries of other failures, progress, stop and
// resume from a Redis checkpoint, abort. Real training: workers_test.ts.

import assert from "node:assert/strict";
import type { ExecuteOptions, ExecutePack, ExecuteResult } from "../execute.ts";
import type { RunSpec } from "../plan.ts";
import { RunStoppedError } from "../../run/run.ts";
import type { RunRecord } from "../../hypothesis/types.ts";
import { DivergedError } from "../../runtime/divergence.ts";
import type { RunEvent } from "../events.ts";
import { startRedisServer } from "./redis_server.ts";
import { submitRuns } from "./submit.ts";
import { collectEvents } from "./test_events.ts";
import { startWorkerWith, type WorkerJob } from "./worker.ts";
import { fakeRecord, fakeSpec, sleep } from "../../testing/fake_runs.ts";

/**
 * A fake executeRun: `ok`, `diverge`, `fail-once` (fails its first call),
 * `slow` (20 steps of 25 ms, a checkpoint every `every` steps holding the
 * step, resumed from it with a note as a real run makes; stops on its
 * signal).
 */
function fakeRuns() {
  const calls = new Map<string, number>();
  const resumedFrom = new Map<string, number>();
  const execute = async (
    spec: RunSpec,
    o: ExecuteOptions,
  ): Promise<RunRecord> => {
    const n = (calls.get(spec.key) ?? 0) + 1;
    calls.set(spec.key, n);
    await sleep(5);
    switch (spec.hypothesisId) {
      case "diverge":
        throw new DivergedError(
          { step: 3, quantity: "loss", value: NaN },
          { losses: new Float32Array(3), gradNorms: new Float32Array(3) },
        );
      case "fail-once":
        if (n === 1) throw new Error("the machine\nran out of memory");
        return fakeRecord(spec);
      case "slow": {
        const steps = 20;
        const store = o.checkpoints!.store(spec, 0);
        const saved = await store.load();
        const start = saved ? saved[0] : 0;
        if (start > 0) {
          resumedFrom.set(spec.key, start);
          o.onEvent?.({
            type: "note",
            spec,
            text: `resuming from the checkpoint at step ${start}`,
          });
        }
        for (let step = start + 1; step <= steps; step++) {
          if (o.signal?.aborted) {
            throw new RunStoppedError(step - 1, steps, String(o.signal.reason));
          }
          await sleep(25);
          await o.onEvent?.({
            type: "progress",
            spec,
            step,
            steps,
            loss: 5 - step / 10,
          });
          if (step % o.checkpoints!.every === 0) {
            await store.save(new Uint8Array([step]));
          }
        }
        return fakeRecord(spec, steps);
      }
      default:
        return fakeRecord(spec);
    }
  };
  return { execute, calls, resumedFrom };
}

/** A fake pack executor training a job's runs one after another with `run`. */
function oneByOne(
  run: (spec: RunSpec, options: ExecuteOptions) => Promise<RunRecord>,
): ExecutePack {
  return async (specs, o) => {
    const results: ExecuteResult[] = [];
    for (const [i, spec] of specs.entries()) {
      try {
        const store = o.checkpoints?.store(spec, i);
        const record = await run(spec, {
          ...o,
          checkpoints: o.checkpoints && store && {
            store: () => store,
            every: o.checkpoints.every,
          },
        });
        results.push({ ok: true, record, replicas: 1 });
      } catch (error) {
        results.push({ ok: false, error });
      }
    }
    return results;
  };
}

/** A worker training with the fake `execute`, one run after another. */
function startWorker(
  url: string,
  { execute, ...options }: Parameters<typeof startWorkerWith>[1] & {
    execute: (spec: RunSpec, options: ExecuteOptions) => Promise<RunRecord>;
  },
) {
  return startWorkerWith(url, { ...options, executePack: oneByOne(execute) });
}

Deno.test({
  name: "queue (fake runs): de-duplication, stored results, failures",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const fake = fakeRuns();
    const workerEvents = collectEvents();
    const worker = await startWorker(server.url, {
      execute: fake.execute,
      concurrency: 2,
      ...workerEvents.listen,
    });
    try {
      const ok = fakeSpec("ok"), diverge = fakeSpec("diverge");
      const flaky = fakeSpec("fail-once");
      const { events, listen } = collectEvents();
      const first = await submitRuns(server.url, [ok, diverge, flaky, ok], {
        ...listen,
        pollMs: 60_000, // events alone
      });
      assert.deepEqual(first, [
        { type: "finished", spec: ok, record: fakeRecord(ok), replicas: 1 },
        {
          type: "diverged",
          spec: diverge,
          message: "diverged at step 3 (loss NaN)",
        },
        {
          type: "failed",
          spec: flaky,
          message: "the machine ran out of memory",
        },
        { type: "finished", spec: ok, record: fakeRecord(ok), replicas: 1 },
      ]);
      assert.deepEqual([...fake.calls.values()], [1, 1, 1]);
      assert.equal(events.filter((e) => e.type === "queued").length, 3);
      // Each run's end was told once, as it returned.
      assert.deepEqual(
        events.filter((e) =>
          e.type === "finished" || e.type === "diverged" ||
          e.type === "failed"
        )
          .toSorted((x, y) => x.type.localeCompare(y.type)),
        [first[1], first[2], first[0]],
      );
      assert.ok(
        workerEvents.events.some((e) =>
          e.type === "diverged" && e.spec.key === diverge.key
        ),
      );

      // Again: the record and the divergence come from the queue (the
      // record as not trained for this submission: replicas 0); the other
      // failure is queued again (and succeeds this time).
      const again = collectEvents();
      const second = await submitRuns(server.url, [ok, diverge, flaky], {
        ...again.listen,
        pollMs: 60_000,
      });
      assert.deepEqual(second, [
        { ...first[0], replicas: 0 },
        first[1],
        {
          type: "finished",
          spec: flaky,
          record: fakeRecord(flaky),
          replicas: 1,
        },
      ]);
      assert.deepEqual([...fake.calls.values()], [1, 1, 2]);
      assert.deepEqual(
        again.events.flatMap((e) => e.type === "requeued" ? [e.why] : []),
        ["the machine ran out of memory"],
      );
      assert.equal(again.events.filter((e) => e.type === "queued").length, 0);
    } finally {
      await worker.close();
    }
  },
});

Deno.test({
  name:
    "queue (fake runs): progress; a stopped worker's run resumes on another from its checkpoint",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const fake = fakeRuns();
    const eventsA = collectEvents();
    const a = await startWorker(server.url, {
      execute: fake.execute,
      checkpointEvery: 4,
      progressEveryMs: 50,
      ...eventsA.listen,
    });
    const slow = fakeSpec("slow");
    const { events, listen } = collectEvents();
    const results = submitRuns(server.url, [slow], {
      ...listen,
      pollMs: 60_000,
    });
    // Stop worker A once it has checkpointed step 8.
    while (!events.some((e) => e.type === "progress" && e.step >= 9)) {
      await sleep(20);
    }
    await a.close();
    const stopped = eventsA.events.flatMap((e) =>
      e.type === "stopped" ? [e.message] : []
    );
    assert.equal(stopped.length, 1, JSON.stringify(eventsA.events));
    const at = Number(
      stopped[0].match(/^stopped after step (\d+) \(back/)?.[1],
    );
    assert.ok(at >= 9, stopped[0]);
    const eventsB: [RunEvent, WorkerJob][] = [];
    const b = await startWorker(server.url, {
      execute: fake.execute,
      checkpointEvery: 4,
      onRunEvent: (e, job) => eventsB.push([e, job]),
    });
    try {
      const [r] = await results;
      assert.deepEqual(r, {
        type: "finished",
        spec: slow,
        record: fakeRecord(slow, 20),
        replicas: 1,
      });
      const from = fake.resumedFrom.get(slow.key)!;
      assert.ok(from >= 8 && from % 4 === 0, `resumed from ${from}`);
      // The run's note reached worker B, with its job.
      const note = eventsB.find(([e]) => e.type === "note");
      assert.deepEqual(note?.[0], {
        type: "note",
        spec: slow,
        text: `resuming from the checkpoint at step ${from}`,
      });
      assert.equal(note?.[1].id, slow.key);
      assert.deepEqual(
        eventsB.map(([e]) => e.type).filter((t) => t !== "progress"),
        ["started", "note", "finished"],
      );
      assert.equal(events.filter((e) => e.type === "started").length, 2);
      const progress = events.flatMap((e) => e.type === "progress" ? [e] : []);
      assert.ok(progress.length >= 3 && progress.length < 25);
      assert.deepEqual(progress.at(-1), {
        type: "progress",
        spec: slow,
        step: 20,
        steps: 20,
        loss: 3,
      });
    } finally {
      await b.close();
    }
  },
});

Deno.test({
  name: "submitRuns: an abort stops waiting; the run stays queued",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using server = await startRedisServer();
    const spec = fakeSpec("ok");
    const controller = new AbortController();
    const waiting = submitRuns(server.url, [spec], {
      signal: controller.signal,
      onQueueEvent: (e) => {
        if (e.type === "queued") controller.abort("SIGINT");
      },
    });
    await assert.rejects(waiting, (e) => e === "SIGINT");
    const fake = fakeRuns();
    const worker = await startWorker(server.url, { execute: fake.execute });
    try {
      // The worker may finish the run while it is being looked at: the
      // completion is not missed (no waiting for the 60 s poll).
      const { events, listen } = collectEvents();
      const t0 = performance.now();
      const [r] = await submitRuns(server.url, [spec], {
        ...listen,
        pollMs: 60_000,
      });
      assert.ok(performance.now() - t0 < 10_000);
      assert.ok(r.type === "finished");
      assert.deepEqual(r.record, fakeRecord(spec));
      assert.ok(["found", "finished"].includes(events[0].type));
      assert.equal(fake.calls.get(spec.key), 1);
    } finally {
      await worker.close();
    }
  },
});
