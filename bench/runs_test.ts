// The runs benchmark's pure parts: its command line, the queue-overhead and
// N-machine arithmetic (hand-derived numbers) and the table it prints. The
// benchmark itself trains real runs for minutes, so it is run by hand
// (`deno task bench runs`), never here.

import assert from "node:assert/strict";
import { estimateOf, parseRunsBenchArgs, runsBenchMain } from "./runs.ts";
import {
  formatRunsBench,
  type RunsBenchResult,
  type SetupResult,
} from "./runs_format.ts";
import {
  estimateMachines,
  msStats,
  overheadFraction,
  queueOverheads,
  redisSaturation,
  runsPerHour,
} from "./runs_stats.ts";

/** Runs `f` with console.error and console.log captured. */
async function captured<T>(
  f: () => Promise<T>,
): Promise<{ value: T; errors: string[]; logs: string[] }> {
  const errors: string[] = [], logs: string[] = [];
  const { error, log } = console;
  console.error = (line: string) => errors.push(line);
  console.log = (line: string) => logs.push(line);
  try {
    return { value: await f(), errors, logs };
  } finally {
    console.error = error;
    console.log = log;
  }
}

Deno.test("runsBenchMain() rejects bad arguments with one line and exit code 2", async () => {
  const cases: [string[], string | RegExp][] = [
    [
      ["--runs", "0"],
      'error: --runs must be an integer >= 1 and <= 256, got "0"',
    ],
    [
      ["--runs", "1e1"],
      'error: --runs must be an integer >= 1 and <= 256, got "1e1"',
    ],
    [
      ["--runs", "-3"],
      'error: --runs must be an integer >= 1 and <= 256, got "-3"',
    ],
    [
      ["--tier", "medium"],
      'error: --tier must be one of: smoke, full, got "medium"',
    ],
    [
      ["--machines", "1,x"],
      'error: --machines must be an integer >= 1 and <= 1000000, got "x"',
    ],
    [
      ["--trivial-jobs", "-1"],
      'error: --trivial-jobs must be an integer >= 0, got "-1"',
    ],
    [["--hypothesis", "no-such-hypothesis"], /^error: .*no-such-hypothesis/],
    [["--nope"], /^error: .*--nope.*valid options: --json/],
    [["extra"], /^error: .*extra/],
  ];
  for (const [args, want] of cases) {
    const { value, errors, logs } = await captured(() => runsBenchMain(args));
    assert.equal(value, 2, args.join(" "));
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.equal(logs.length, 0);
    assert.ok(!errors[0].includes("\n"), errors[0]);
    if (typeof want === "string") assert.equal(errors[0], want);
    else assert.match(errors[0], want);
  }
});

Deno.test("runsBenchMain(--help) prints the usage and trains nothing", async () => {
  const { value, logs, errors } = await captured(() =>
    runsBenchMain(["--help"])
  );
  assert.equal(value, 0);
  assert.deepEqual(errors, []);
  assert.match(logs[0], /^usage: deno task bench runs /);
  assert.match(logs[0], /--machines LIST/);
});

Deno.test("parseRunsBenchArgs(): defaults, and the machine list sorted without repeats", () => {
  const d = parseRunsBenchArgs([]);
  assert.equal(d.help, false);
  assert.equal(d.json, false);
  assert.deepEqual(d.options, {
    hypothesis: "11.2b-jiggling",
    runs: 4,
    tier: "smoke",
    queue: true,
    trivialJobs: 200,
    machines: [1, 4, 16, 64],
    dir: undefined,
  });
  const a = parseRunsBenchArgs([
    "--json",
    "--hypothesis",
    "control-layernorm",
    "--runs",
    "2",
    "--tier",
    "full",
    "--no-queue",
    "--trivial-jobs",
    "0",
    "--machines",
    "8, 2,8,1",
  ]);
  assert.equal(a.json, true);
  assert.deepEqual(a.options, {
    hypothesis: "control-layernorm",
    runs: 2,
    tier: "full",
    queue: false,
    trivialJobs: 0,
    machines: [1, 2, 8],
    dir: undefined,
  });
});

Deno.test("runsPerHour(), msStats(), overheadFraction(): hand-computed", () => {
  assert.equal(runsPerHour(4, 120_000), 120); // 4 runs in 2 min
  assert.equal(runsPerHour(3, 3_600_000), 3);
  assert.equal(runsPerHour(0, 1000), 0);
  assert.equal(runsPerHour(2, 0), 0);
  assert.deepEqual(msStats([30, 24, 10, 48]), {
    n: 4,
    median: 27,
    min: 10,
    max: 48,
  });
  assert.equal(msStats([]).n, 0);
  assert.ok(Number.isNaN(msStats([]).median));
  assert.equal(overheadFraction(50, 950), 0.05);
  assert.equal(overheadFraction(0, 1000), 0);
});

Deno.test("queueOverheads(): waiting for a busy worker is not the queue's overhead", () => {
  // Two workers, four runs queued at 0..3 ms; worker 0 trains A then C,
  // worker 1 trains B then D.
  const per = queueOverheads([
    { worker: 0, queuedAt: 0, startAt: 10, doneAt: 1010, resultAt: 1030 }, // A
    { worker: 1, queuedAt: 1, startAt: 12, doneAt: 1512, resultAt: 1525 }, // B
    { worker: 0, queuedAt: 2, startAt: 1013, doneAt: 2013, resultAt: 2020 }, // C
    { worker: 1, queuedAt: 3, startAt: 1520, doneAt: 2520, resultAt: 2560 }, // D
  ]);
  assert.deepEqual(per, [
    // available at 0 (queued; worker idle): pickup 10 - 0, back 1030 - 1010
    {
      pickupMs: 10,
      returnMs: 20,
      overheadMs: 30,
      workerMs: 1000,
      latencyMs: 1030,
    },
    // available at 1: pickup 11, back 13
    {
      pickupMs: 11,
      returnMs: 13,
      overheadMs: 24,
      workerMs: 1500,
      latencyMs: 1524,
    },
    // available when A was done (1010): pickup 3, back 7
    {
      pickupMs: 3,
      returnMs: 7,
      overheadMs: 10,
      workerMs: 1000,
      latencyMs: 2018,
    },
    // available when B was done (1512): pickup 8, back 40
    {
      pickupMs: 8,
      returnMs: 40,
      overheadMs: 48,
      workerMs: 1000,
      latencyMs: 2557,
    },
  ]);
  // A start line seen before the submitter heard "queued": pickup 0, not < 0.
  const [early] = queueOverheads([
    { worker: 0, queuedAt: 5, startAt: 4, doneAt: 104, resultAt: 110 },
  ]);
  assert.equal(early.pickupMs, 0);
  assert.equal(early.overheadMs, 6);
});

Deno.test("estimateMachines(): linear in machines until Redis's jobs/s", () => {
  // 150 runs/hour per machine; Redis handled 0.1 jobs/s = 360 jobs/hour.
  const rows = estimateMachines(
    { perMachineRunsPerHour: 150, redisJobsPerSecond: 0.1 },
    [1, 2, 3, 4],
  );
  assert.deepEqual(rows.map((r) => r.runsPerHour), [150, 300, 360, 360]);
  assert.deepEqual(rows.map((r) => r.limitedBy), [
    "machines",
    "machines",
    "redis",
    "redis",
  ]);
  // 150 / 3600 jobs/s per machine.
  const close = (a: number, b: number) =>
    assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  close(rows[0].jobsPerSecond, 150 / 3600);
  close(rows[3].jobsPerSecond, 600 / 3600);
  close(rows[0].redisLoad!, (150 / 3600) / 0.1); // 0.41666...
  close(rows[2].redisLoad!, 1.25);
  assert.equal(
    redisSaturation({ perMachineRunsPerHour: 150, redisJobsPerSecond: 0.1 }),
    2, // 360 / 150 = 2.4 machines
  );
  // Without a Redis measurement: plain N x per-machine, no load.
  const free = estimateMachines(
    { perMachineRunsPerHour: 120, redisJobsPerSecond: null },
    [1, 64],
  );
  assert.deepEqual(free.map((r) => [r.runsPerHour, r.redisLoad, r.limitedBy]), [
    [120, null, "machines"],
    [7680, null, "machines"],
  ]);
  assert.equal(
    redisSaturation({ perMachineRunsPerHour: 120, redisJobsPerSecond: null }),
    null,
  );
});

const stats = (median: number, n = 4) => ({
  n,
  median,
  min: median,
  max: median,
});

function setup(
  id: string,
  executor: "pool" | "queue",
  workers: number,
  threads: number,
  wallMs: number,
  runs = 4,
): SetupResult {
  return {
    id,
    executor,
    workers,
    threads,
    runs,
    failed: 4 - runs,
    wallMs,
    runsPerHour: runsPerHour(runs, wallMs),
    runWallMs: stats(30_000, runs),
    trainWallMs: stats(29_000, runs),
  };
}

const SETUPS = [
  setup("pool-1", "pool", 1, 2, 120_000), // 120 runs/hour
  setup("pool-2", "pool", 2, 1, 96_000), // 150 runs/hour
  setup("queue-2", "queue", 2, 1, 100_000, 3), // 108 runs/hour, 1 failed
];

const QUEUE: NonNullable<RunsBenchResult["queue"]> = {
  overhead: {
    perJobMs: { n: 3, median: 20, min: 12, max: 45 },
    pickupMs: stats(8, 3),
    returnMs: stats(12, 3),
    latencyMs: stats(40_000, 3),
    fraction: overheadFraction(20, 30_000),
    recordBytes: 21_800,
    workerStartMs: 1500,
  },
  trivial: {
    jobs: 200,
    payloadBytes: 21_800,
    wallMs: 2000,
    jobsPerSecond: 0.1, // absurdly slow, so that Redis limits in the table
    roundTripMs: { n: 20, median: 7, min: 5, max: 11 },
    concurrency: 8,
  },
};

Deno.test("estimateOf(): the queue setup is one machine's figure; else the fastest", () => {
  const e = estimateOf(SETUPS, QUEUE, [1, 4])!;
  assert.equal(e.basis, "queue-2");
  assert.equal(e.perMachineRunsPerHour, 108);
  assert.equal(e.redisJobsPerSecond, 0.1);
  assert.equal(e.saturatesAtMachines, 3); // 360 / 108 = 3.3
  assert.deepEqual(e.rows.map((r) => r.runsPerHour), [108, 360]);
  const pools = estimateOf(SETUPS.slice(0, 2), null, [2])!;
  assert.equal(pools.basis, "pool-2");
  assert.equal(pools.overheadFraction, null);
  assert.equal(pools.rows[0].runsPerHour, 300);
  assert.equal(
    estimateOf([setup("pool-1", "pool", 1, 2, 1000, 0)], null, [1]),
    null,
  );
});

Deno.test("formatRunsBench(): the table of setups, the queue's overhead and the estimate", () => {
  const result: RunsBenchResult = {
    hypothesis: "11.2b-jiggling",
    tier: "smoke",
    steps: 300,
    seeds: [1, 2, 3, 4],
    cores: 2,
    machine: "linux/x86_64",
    deno: "2.0.0",
    loadAverage: { start: 0.5, end: 2 },
    setups: SETUPS,
    queue: QUEUE,
    skipped: [],
    estimate: estimateOf(SETUPS, QUEUE, [1, 4, 16]),
  };
  assert.deepEqual(formatRunsBench(result).split("\n"), [
    "runs bench: 11.2b-jiggling smoke (300 steps), seeds 1,2,3,4; 2 cores, linux/x86_64, deno 2.0.0; load average 0.50 -> 2.00",
    "",
    "| setup | runs | wall | runs/hour | per-run wall (median) | training (median) |",
    "| --- | --- | --- | --- | --- | --- |",
    "| pool, 1 worker x 2 threads | 4 | 120.0 s | 120 | 30.0 s | 29.0 s |",
    "| pool, 2 workers x 1 thread | 4 | 96.0 s | 150 | 30.0 s | 29.0 s |",
    "| queue, 2 workers x 1 thread | 3 (+1 failed) | 100.0 s | 108 | 30.0 s | 29.0 s |",
    "",
    "queue overhead per job: median 20 ms, max 45 ms (pickup median 8 ms, result back median 12 ms), 0.07% of a job's time; records 21.8 kB; workers took 1.5 s to start (not in the wall)",
    "trivial jobs (21.8 kB result each): one at a time 7 ms per round trip (median of 20); 200 at once: 0.1 jobs/s (concurrency 8, one process: a lower bound on one Redis)",
    "",
    "estimate for N machines like this one (108 runs/hour each, from queue-2): linear in N, since a job's queue cost is 0.07% of its time and the machines share only Redis, up to the 0.1 jobs/s one Redis handled here (reached at ~3 machines)",
    "",
    "| machines | runs/hour | jobs/s on Redis | Redis load | limited by |",
    "| --- | --- | --- | --- | --- |",
    "| 1 | 108 | 0.03 | 30% | machines |",
    "| 4 | 360 | 0.12 | 120% | redis |",
    "| 16 | 360 | 0.48 | 480% | redis |",
  ]);
  // Without the queue: the skip reason instead, no overhead lines.
  const bare = formatRunsBench({
    ...result,
    setups: SETUPS.slice(0, 2),
    queue: null,
    skipped: ["queue-2: redis-server is not installed"],
    estimate: estimateOf(SETUPS.slice(0, 2), null, [1]),
  }).split("\n");
  assert.ok(!bare.some((l) => l.startsWith("queue overhead")));
  assert.match(
    bare.find((l) => l.startsWith("estimate"))!,
    /\(150 runs\/hour each, from pool-2\): .*queue cost \(not measured\).*\(its limit not measured\)$/,
  );
  assert.equal(bare.at(-1), "skipped queue-2: redis-server is not installed");
});
