// `deno task sweep`: usage errors, what a dry run shows (packs, several
// hypotheses), and two checkouts sharing one cache.

import assert from "node:assert/strict";
import { runScript, withTempDir } from "../testing/helpers.ts";
import { copyProject, denoIn } from "../testing/project_copy.ts";

const SWEEP = new URL("./sweep.ts", import.meta.url).pathname;

Deno.test("sweep: a bad --pack is one error line and exit 2", async () => {
  for (const bad of ["0", "x", "2.5", "-1"]) {
    const r = await runScript(SWEEP, ["control-layernorm", "--pack", bad]);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: --pack must be an integer >= 1/);
    assert.equal(r.stdout, "");
  }
});

Deno.test("sweep: a bad --threads is one error line and exit 2", async () => {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  for (const bad of ["0", String(cores + 1), "1.5"]) {
    const r = await runScript(SWEEP, ["control-layernorm", "--threads", bad]);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr.trim(), /^error: --threads must be in 1\.\.\d+ /);
    assert.equal(r.stdout, "");
  }
});

Deno.test("sweep: --threads with a queue is one error line and exit 2 (each worker chooses its own)", async () => {
  const r = await runScript(SWEEP, [
    "control-layernorm",
    "--threads",
    "1",
    "--queue",
    "redis://127.0.0.1:1",
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr.trim(),
    /^error: --threads applies to the local pool; on a queue each worker chooses its own/,
  );
});

Deno.test("sweep --dry-run: shows which runs are packed together, and the default", async () => {
  const args = [
    "11.2f-noise-sweep",
    "--backend",
    "cpu",
    "--seeds",
    "1,2",
    "--dry-run",
  ];
  const packed = await runScript(SWEEP, [...args, "--pack", "3"]);
  assert.equal(packed.code, 0, packed.stderr);
  const lines = packed.stdout.trim().split("\n");
  assert.match(lines[0], /20 to run; pack 3: 7 jobs, 7 of them packs$/);
  assert.equal(lines[1], "  pack 1: 3 runs trained together");
  assert.ok(lines[2].startsWith("    to run   seed 1 noise.scale=1e-9  key "));
  assert.ok(lines[4].startsWith("    to run   seed 1 noise.scale=3e-9  key "));
  assert.equal(lines.filter((l) => l.startsWith("  pack ")).length, 7);

  const plain = await runScript(SWEEP, args);
  assert.equal(plain.code, 0, plain.stderr);
  const first = plain.stdout.trim().split("\n");
  assert.match(first[0], /pack 1 \(the default on cpu\)$/);
  assert.equal(first.length, 21, "one line per run, no packs");
});

Deno.test("sweep --dry-run with several hypotheses: a line each, the total, their runs under a heading each", async () => {
  const r = await runScript(SWEEP, [
    "control-layernorm",
    "11.2a-rmsnorm",
    "--backend",
    "cpu",
    "--seeds",
    "1,2",
    "--dry-run",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const counts = lines.slice(0, 3).map((line) =>
    /; (\d+) recorded, (\d+) to run/.exec(line)!.slice(1).map(Number)
  );
  assert.match(lines[0], /^control-layernorm smoke on cpu: 2 runs \(2 seeds/);
  assert.match(lines[1], /^11\.2a-rmsnorm smoke on cpu: 2 runs \(2 seeds/);
  assert.match(lines[2], /^2 hypotheses: 4 runs; .* pack 1 \(the default/);
  for (const [recorded, left] of counts.slice(0, 2)) {
    assert.equal(recorded + left, 2);
  }
  assert.deepEqual(counts[2], [
    counts[0][0] + counts[1][0],
    counts[0][1] + counts[1][1],
  ]);
  assert.equal(lines[3], "control-layernorm:");
  assert.match(lines[4], /^ {2}(recorded|to run {2}) seed 1 {2}key /);
  assert.match(lines[5], /^ {2}(recorded|to run {2}) seed 2 {2}key /);
  assert.equal(lines[6], "11.2a-rmsnorm:");
  assert.equal(lines.length, 9);

  const none = await runScript(SWEEP, ["--dry-run"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^error: expected one or more hypothesis ids/);
});

Deno.test("sweep progress: a stopped run is not counted as done, a finished or diverged one is", async () => {
  const { progressBoard } = await import("./sweep.ts");
  const spec = (seed: number) => ({
    hypothesisId: "control-layernorm",
    tier: "full" as const,
    seed,
    overrides: [],
    backend: "cpu" as const,
    key: `k${seed}`,
  });
  const lines: string[] = [];
  const original = console.error;
  console.error = (text: string) => lines.push(text);
  try {
    const board = progressBoard(3, 1);
    const job = (s: ReturnType<typeof spec>) => ({ worker: 0, pack: [s] });
    board.event(
      { type: "stopped", spec: spec(1), message: "SIGTERM" },
      job(spec(1)),
    );
    board.event(
      { type: "diverged", spec: spec(2), message: "loss NaN" },
      job(spec(2)),
    );
    board.finish();
  } finally {
    console.error = original;
  }
  assert.match(lines.at(-1)!, /^sweep: 1\/3 runs done/);
});

Deno.test("sweep in a second checkout sharing the cache takes the run the first one trained, without training it", async () => {
  await withTempDir(async (dir) => {
    const [a, b, cacheDir] = [`${dir}/a`, `${dir}/b`, `${dir}/cache`];
    await copyProject(a);
    await copyProject(b);
    const sweep = "deno task sweep control-layernorm --tier smoke --seeds 42";
    const trained = await denoIn(a, `${sweep} --backend cpu`, { cacheDir });
    assert.match(trained, /1 run\(s\) recorded/);
    const dry = await denoIn(b, `${sweep} --backend cpu --dry-run`, {
      cacheDir,
    });
    assert.match(dry, /1 to run \(1 kept in the cache: taken, not trained\)/);
    assert.match(dry, /^ {2}kept {5}seed 42 {2}key /m);
    const taken = await denoIn(b, `${sweep} --backend cpu`, { cacheDir });
    assert.match(
      taken,
      /^note: 1 run\(s\) taken from the cache's kept records/m,
    );
    assert.match(taken, /1 recorded, 0 to run/);
    assert.doesNotMatch(taken, /steps\/s|worker 1:/, "nothing trained");
    const record = "reports/data/control-layernorm/smoke-seed42-cpu.json";
    assert.deepEqual(
      await Deno.readFile(`${b}/${record}`),
      await Deno.readFile(`${a}/${record}`),
    );
  });
});
