import assert from "node:assert/strict";
import { type LockedJob, LockTracker } from "./lock_tracker.ts";

/** A job whose renewals are counted; `lost` makes them answer 0. */
function fakeJob(): LockedJob & {
  lost: boolean;
  renewals: [string, number][];
} {
  const renewals: [string, number][] = [];
  const job = {
    lost: false,
    renewals,
    extendLock(token: string, ms: number): Promise<number> {
      renewals.push([token, ms]);
      return Promise.resolve(job.lost ? 0 : 1);
    },
  };
  return job;
}

/** A fake clock: `tick()` fires the tracker's timer once. */
function fakeClock() {
  const clock = {
    ticks: [] as (() => void)[],
    periods: [] as number[],
    running: 0,
    every(tick: () => void, ms: number) {
      clock.ticks.push(tick);
      clock.periods.push(ms);
      clock.running++;
      return () => {
        clock.ticks.splice(clock.ticks.indexOf(tick), 1);
        clock.running--;
      };
    },
    async tick() {
      for (const t of [...clock.ticks]) t();
      // Let the renewals' promises settle.
      await new Promise((r) => setTimeout(r, 0));
    },
  };
  return clock;
}

Deno.test("lock tracker: renews every held job on one timer, stops renewing a released one", async () => {
  const clock = fakeClock();
  const lost: string[] = [];
  const tracker = new LockTracker({
    lockMs: 1000,
    onLost: (id) => lost.push(id),
    every: clock.every,
  });
  assert.equal(clock.running, 0, "no timer while nothing is held");
  const a = fakeJob(), b = fakeJob();
  tracker.track("a", a, "tok-a");
  tracker.track("b", b, "tok-b");
  assert.equal(clock.running, 1, "one timer for all jobs");
  assert.deepEqual(clock.periods, [500], "every half lock duration");
  await clock.tick();
  await clock.tick();
  assert.deepEqual(a.renewals, [["tok-a", 1000], ["tok-a", 1000]]);
  assert.deepEqual(b.renewals, [["tok-b", 1000], ["tok-b", 1000]]);

  tracker.untrack("a");
  await clock.tick();
  assert.equal(a.renewals.length, 2, "a released job is not renewed");
  assert.equal(b.renewals.length, 3);
  assert.deepEqual(tracker.held, ["b"]);
  assert.deepEqual(lost, []);

  tracker.untrack("b");
  assert.equal(clock.running, 0, "the timer stops with the last job");
  await clock.tick();
  assert.equal(b.renewals.length, 3);
});

Deno.test("lock tracker: a lock another worker holds is reported once and no longer renewed", async () => {
  const clock = fakeClock();
  const lost: string[] = [];
  const errors: string[] = [];
  const tracker = new LockTracker({
    lockMs: 200,
    onLost: (id) => lost.push(id),
    onError: (id, e) => errors.push(`${id}: ${(e as Error).message}`),
    every: clock.every,
  });
  const a = fakeJob(), b = fakeJob();
  const flaky: LockedJob = {
    extendLock: () => Promise.reject(new Error("connection reset")),
  };
  tracker.track("a", a, "t");
  tracker.track("b", b, "t");
  tracker.track("c", flaky, "t");
  b.lost = true;
  await tracker.renew();
  assert.deepEqual(lost, ["b"]);
  assert.deepEqual(errors, ["c: connection reset"]);
  assert.deepEqual(tracker.held, ["a", "c"], "a Redis error is not a loss");
  await clock.tick();
  assert.deepEqual(lost, ["b"]);
  assert.equal(b.renewals.length, 1);
  assert.equal(a.renewals.length, 2);
  tracker.close();
  assert.equal(clock.running, 0);
});
