/**
 * `deno task sweep <id>... [options]`: runs the replicates x sweep grid of
 * one or more hypotheses, skipping every run already recorded (by run key),
 * on a local pool of worker processes (default) or through a BullMQ queue on
 * Redis (`--queue`). See `--help`.
 *
 * @module
 */

import { selectHypotheses } from "./hypothesis_args.ts";
import { HYPOTHESES } from "../../hypotheses/mod.ts";
import {
  adoptKeptRuns,
  defaultPack,
  packRuns,
  type PlannedRun,
  planRuns,
  runIdOf,
  type RunSpec,
  shardOf,
} from "../executor/plan.ts";
import { replicateSeeds, sweepPoints } from "../hypothesis/grid.ts";
import { RECORDS_DIR } from "../history/locations.ts";
import type { Hypothesis, Tier } from "../hypothesis/types.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { BackendName } from "../runtime/engine.ts";
import { type PoolJob, runPool } from "../executor/pool.ts";
import { isRunEnd, type RunEnd, type RunEvent } from "../executor/events.ts";
import {
  intOption,
  parseCliArgs,
  runCli,
  threadsOption,
  UsageError,
} from "./errors.ts";
import { stoppedExitCode, stopSignal } from "../process/lifeline.ts";
import { formatEta } from "./progress.ts";
import {
  QUEUE_CA_ENV,
  QUEUE_PASSWORD_ENV,
  QUEUE_URL_ENV,
  resolveQueueTarget,
} from "../executor/queue/access.ts";
import { checkRedis } from "../executor/queue/check.ts";
import { type RedisTarget } from "../executor/queue/connection.ts";
import { queueSettings } from "./queue_settings.ts";
import { backendOption, tierOption } from "./options.ts";

const PACK_CPU = defaultPack("cpu");
const PACK_GPU = defaultPack("webgpu");

const HELP = `Usage: deno task sweep <hypothesis-id>... [options]

Runs every replicate seed at every sweep point of the hypotheses named (a run
whose record exists with the same run key is skipped), all of them on one pool
or queue, then prints what is left. Records go to reports/data/<id>/ like
\`deno task run\`; \`deno task report\` turns them into rates.

Options:
  --tier smoke|full      default: smoke
  --backend NAME         auto (default), cpu, wasm or webgpu
  --workers N            local worker processes (default 1; onnxruntime
                         threads are split between them)
  --threads N            onnxruntime threads per worker (default: cores /
                         workers; the numbers do not depend on it); two
                         sweeps side by side on 2 cores: --threads 1 each,
                         or both spread over every core and each runs up
                         to twice as slow
  --queue redis://H:P    submit the runs to a BullMQ queue on Redis instead
                         (or ${QUEUE_URL_ENV}); \`deno task worker --queue
                         redis://H:P\` on any machine with a checkout
                         executes them; rediss:// is TLS (verified),
                         redis[s]://USER@H:P an ACL user
  --queue-password-file F  the queue's password is in file F (or
                         ${QUEUE_PASSWORD_ENV}; never on the command line)
  --queue-ca FILE        PEM CA of the queue server's certificate (or
                         ${QUEUE_CA_ENV})
  --shard i/n            only the i-th of n deterministic parts of the plan
  --seeds a,b,...        only these replicate seeds
  --pack R               train up to R runs of one step graph together, as
                         replicates of one graph (one pool job; on the
                         queue one job per run, taken together) (default:
                         ${PACK_CPU} on cpu and wasm, where it is no faster;
                         ${PACK_GPU} on webgpu, where they share each step's
                         dispatch overhead); --dry-run shows the packs
  --checkpoint-every K   steps between checkpoints (default 250)
  --dry-run              list the plan and exit
  -h, --help             this help

Hypotheses: ${HYPOTHESES.map((h) => h.id).join(", ")}
`;

function parseShard(text: string | undefined): [number, number] | null {
  if (text === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const i = Number(m?.[1]), n = Number(m?.[2]);
  if (!m || n < 1 || i < 1 || i > n) {
    throw new UsageError(
      `--shard must be i/n with 1 <= i <= n, got ${JSON.stringify(text)}`,
    );
  }
  return [i, n];
}

/** `id seed 1 [noise.scale=1e-8]`: one run, for progress lines. */
function runLabel(spec: RunSpec, withId = true): string {
  return `${withId ? `${spec.hypothesisId} ` : ""}seed ${spec.seed}${
    spec.overrides.length ? ` [${spec.overrides.join(" ")}]` : ""
  }`;
}

/** One run's label, or a pack's: `3 runs of id: seed 1, seed 2, seed 3`. */
function packLabel(pack: readonly RunSpec[]): string {
  if (pack.length === 1) return runLabel(pack[0]);
  const ids = [...new Set(pack.map((s) => s.hypothesisId))].join(", ");
  return `${pack.length} runs of ${ids}: ${
    pack.map((s) => runLabel(s, false)).join(", ")
  }`;
}

/**
 * Renders pool progress: one line per worker (its run, or its pack of runs
 * trained together) and an overall count/ETA.
 */
export function progressBoard(total: number, workers: number) {
  const tty = Deno.stderr.isTerminal();
  const lines: string[] = Array(workers).fill("idle");
  let done = 0, drawn = 0, lastPrint = 0;
  const start = performance.now();
  const stepsDone = new Map<string, number>();
  const losses = new Map<number, (number | undefined)[]>();
  const ends = new Map<number, string[]>();
  let stepsTotal = 0, stepsFinished = 0;
  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - lastPrint < (tty ? 250 : 15_000)) return;
    lastPrint = now;
    const running = [...stepsDone.values()].reduce((a, b) => a + b, 0);
    const progress = (stepsFinished + running) / Math.max(1, stepsTotal);
    const eta = progress > 0 && done < total
      ? ` ETA ${formatEta((now - start) * (1 / progress - 1) / 1000)}`
      : "";
    const head = `sweep: ${done}/${total} runs done${eta}`;
    const text = [head, ...lines.map((l, w) => `  worker ${w + 1}: ${l}`)];
    if (tty) {
      const enc = new TextEncoder();
      if (drawn) Deno.stderr.writeSync(enc.encode(`\x1b[${drawn}A`));
      Deno.stderr.writeSync(
        enc.encode(text.map((l) => `\x1b[2K${l}\n`).join("")),
      );
      drawn = text.length;
    } else console.error(text.join("\n"));
  };
  /** A run's end: its status on its worker's line. */
  const end = (e: RunEnd, { worker, pack }: PoolJob, i: number) => {
    // A stopped run is not done: it resumes from its checkpoint next time.
    if (e.type !== "stopped") done++;
    stepsFinished += stepsDone.get(e.spec.key) ?? 0;
    stepsDone.delete(e.spec.key);
    const status = e.type === "finished"
      ? "done"
      : `${e.type}${e.message ? ` (${e.message})` : ""}`;
    const ended = ends.get(worker) ?? [];
    ended[i] = status;
    ends.set(worker, ended);
    lines[worker] = `${packLabel(pack)}: ${
      new Set(ended).size === 1 && pack.length === ended.length
        ? status
        : ended.map((x, k) =>
          x === undefined ? "" : `${runLabel(pack[k], false)} ${x}`
        ).filter((x) => x).join("; ")
    }`;
    draw(true);
  };
  return {
    setTotalSteps(n: number) {
      stepsTotal = n;
    },
    event(e: RunEvent, job: PoolJob) {
      const { worker, pack } = job;
      const what = packLabel(pack);
      const i = pack.findIndex((s) => runIdOf(s) === runIdOf(e.spec));
      if (isRunEnd(e)) return end(e, job, i);
      if (e.type === "started") {
        lines[worker] = `${what}: starting`;
        losses.set(worker, pack.map(() => undefined));
        ends.set(worker, []);
      } else if (e.type === "progress") {
        stepsDone.set(e.spec.key, e.step);
        const l = losses.get(worker) ?? [];
        l[i] = e.loss;
        lines[worker] = `${what}: ${e.step}/${e.steps} loss ${
          l.map((x) => x === undefined ? "-" : x.toFixed(4)).join(" ")
        }`;
      } else if (e.type === "note") {
        lines[worker] = `${what}: ${
          pack.length > 1 ? `${runLabel(e.spec, false)}: ` : ""
        }${e.text}`;
      }
      draw();
    },
    finish() {
      draw(true);
    },
  };
}

/** What the command line asks for. */
interface SweepArgs {
  readonly hypotheses: readonly Hypothesis[];
  readonly tier: Tier;
  readonly requested: BackendName | "auto";
  readonly workers: number;
  /** `--threads` (per worker), if given. */
  readonly threads: number | undefined;
  readonly checkpointEvery: number;
  /** `--pack`, if given. */
  readonly pack: number | undefined;
  readonly shard: [number, number] | null;
  readonly seeds: number[] | undefined;
  /** The queue (`--queue` or HORIZON_QUEUE_URL), its secrets read. */
  readonly queue: RedisTarget | undefined;
  readonly dryRun: boolean;
}

/** Parses and checks the arguments; null for `--help`. */
async function parseSweepArgs(args: string[]): Promise<SweepArgs | null> {
  const { values, positionals } = parseCliArgs(args, {
    tier: { type: "string" },
    backend: { type: "string" },
    workers: { type: "string" },
    threads: { type: "string" },
    queue: { type: "string" },
    "queue-password-file": { type: "string" },
    "queue-ca": { type: "string" },
    shard: { type: "string" },
    seeds: { type: "string" },
    pack: { type: "string" },
    "checkpoint-every": { type: "string" },
    "dry-run": { type: "boolean" },
  }, true);
  if (values.help) return null;
  if (positionals.length === 0) {
    throw new UsageError(
      `expected one or more hypothesis ids; choose from: ${
        HYPOTHESES.map((h) => h.id).join(", ")
      }`,
    );
  }
  const hypotheses = selectHypotheses([...new Set(positionals)]);
  const tier = tierOption(values.tier) ?? "smoke";
  const requested = backendOption(values.backend, { auto: true }) ?? "auto";
  const workers = intOption("workers", values.workers, { min: 1, max: 64 }) ??
    1;
  const threads = threadsOption(values.threads);
  const checkpointEvery =
    intOption("checkpoint-every", values["checkpoint-every"], { min: 0 }) ??
      250;
  const pack = intOption("pack", values.pack, { min: 1, max: 256 });
  const shard = parseShard(values.shard);
  const seeds = values.seeds?.split(",").map((s) =>
    intOption("seeds", s.trim(), { min: 0 })!
  );
  const queue = await queueSettings(() =>
    resolveQueueTarget({
      queue: values.queue,
      passwordFile: values["queue-password-file"],
      caFile: values["queue-ca"],
    })
  );
  // Decided by the queue target itself (--queue or its environment variable).
  if (threads !== undefined && queue !== undefined) {
    throw new UsageError(
      "--threads applies to the local pool; on a queue each worker chooses its own (deno task worker --threads N)",
    );
  }
  return {
    hypotheses,
    tier,
    requested,
    workers,
    threads,
    checkpointEvery,
    pack,
    shard,
    seeds,
    queue,
    dryRun: values["dry-run"] ?? false,
  };
}

/** The sweep's plan: every hypothesis's runs, this shard's, and its jobs. */
interface SweepPlan {
  readonly backend: BackendName;
  /** Each hypothesis's runs, in the order named. */
  readonly plans: readonly PlannedRun[][];
  /** The runs of this shard. */
  readonly plan: readonly PlannedRun[];
  /** Those still to run. */
  readonly todo: readonly PlannedRun[];
  readonly pack: number;
  readonly packs: readonly RunSpec[][];
  /** Runs taken from the cache's kept records instead of training. */
  readonly adopted: number;
}

/**
 * The sweep's plan; unless it is a dry run, this shard's runs that the cache
 * keeps for another records folder are taken first, so they are no work.
 */
async function planSweep(a: SweepArgs): Promise<SweepPlan> {
  const backend = (await selectBackend(a.requested)).engine.name;
  const notes: string[] = [];
  const plans: PlannedRun[][] = [];
  for (const h of a.hypotheses) {
    plans.push(
      await planRuns(h, {
        tier: a.tier,
        backend,
        seeds: a.seeds,
        onNote: (n) => notes.push(n),
      }),
    );
  }
  for (const n of notes) console.error(`note: ${n}`);
  const all = plans.flat();
  const planned = a.shard ? shardOf(all, a.shard[0], a.shard[1]) : all;
  const { plan, adopted } = a.dryRun
    ? { plan: planned, adopted: 0 }
    : await adoptKeptRuns(planned);
  const pack = a.pack ?? defaultPack(backend);
  const packs = await packRuns(plan, pack);
  const todo = plan.filter((p) => p.record === null);
  return { backend, plans, plan, todo, pack, packs, adopted };
}

/** Prints a line per hypothesis (and the total): runs, recorded, to run. */
function printSummary(a: SweepArgs, p: SweepPlan): void {
  const packed = p.packs.filter((x) => x.length > 1).length;
  const jobs = p.packs.length;
  const packText = `pack ${p.pack}${
    a.pack === undefined ? ` (the default on ${p.backend})` : ""
  }${
    packed
      ? `: ${jobs} job${jobs === 1 ? "" : "s"}, ${packed} of them packs`
      : ""
  }`;
  const counts = (runs: readonly PlannedRun[]) => {
    const left = runs.filter((r) => r.record === null).length;
    const kept = runs.filter((r) => r.kept).length;
    return `${
      a.shard ? `, shard ${a.shard[0]}/${a.shard[1]}: ${runs.length}` : ""
    }; ${runs.length - left} recorded, ${left} to run${
      kept ? ` (${kept} kept in the cache: taken, not trained)` : ""
    }`;
  };
  const only = a.hypotheses.length === 1;
  for (const [i, h] of a.hypotheses.entries()) {
    const points = sweepPoints(h).length;
    const mine = p.plan.filter((r) => r.spec.hypothesisId === h.id);
    console.log(
      `${h.id} ${a.tier} on ${p.backend}: ${p.plans[i].length} runs (${
        (a.seeds ?? replicateSeeds(h)).length
      } seeds x ${points} point${points === 1 ? "" : "s"})${counts(mine)}${
        only ? `; ${packText}` : ""
      }`,
    );
  }
  if (!only) {
    const planned = p.plans.reduce((n, x) => n + x.length, 0);
    console.log(
      `${a.hypotheses.length} hypotheses: ${planned} runs${
        counts(p.plan)
      }; ${packText}`,
    );
  }
}

/** Lists the plan's runs in plan order, a pack where its first run is. */
function printDryRun(a: SweepArgs, { plan, packs }: SweepPlan): void {
  const kept = new Set(plan.filter((p) => p.kept).map((p) => runIdOf(p.spec)));
  const line = (p: PlannedRun | RunSpec, indent: string) => {
    const spec = "spec" in p ? p.spec : p;
    const recorded = "spec" in p && p.record !== null;
    const point = spec.overrides.join(" ");
    const state = recorded
      ? "recorded"
      : kept.has(runIdOf(spec))
      ? "kept    "
      : "to run  ";
    return `${indent}${state} seed ${spec.seed}${
      point ? ` ${point}` : ""
    }  key ${spec.key.slice(0, 12)}`;
  };
  const packOf = new Map(
    packs.flatMap((members, k) => members.map((s) => [runIdOf(s), k])),
  );
  let heading = "";
  for (const p of plan) {
    if (a.hypotheses.length > 1 && p.spec.hypothesisId !== heading) {
      heading = p.spec.hypothesisId;
      console.log(`${heading}:`);
    }
    const k = packOf.get(runIdOf(p.spec));
    if (k === undefined) console.log(line(p, "  "));
    else if (packs[k].length === 1) console.log(line(packs[k][0], "  "));
    else if (runIdOf(packs[k][0]) === runIdOf(p.spec)) {
      console.log(`  pack ${k + 1}: ${packs[k].length} runs trained together`);
      for (const s of packs[k]) console.log(line(s, "    "));
    }
  }
}

/** How many of a sweep's runs failed or diverged; null when it was stopped. */
type Failures = { readonly failed: number; readonly diverged: number } | null;

/** Runs the plan on the local pool, with a progress board. */
async function runOnPool(
  a: SweepArgs,
  { todo, packs }: SweepPlan,
  signal: AbortSignal,
): Promise<Failures> {
  const board = progressBoard(todo.length, Math.min(a.workers, packs.length));
  board.setTotalSteps(todo.reduce((n, p) => n + p.prepared.steps, 0));
  const results = await runPool(packs, {
    workers: a.workers,
    ...(a.threads === undefined ? {} : { threads: a.threads }),
    recordsDir: RECORDS_DIR,
    checkpointEvery: a.checkpointEvery,
    onEvent: (e, job) => board.event(e, job),
    signal,
  });
  board.finish();
  // A run stopped while this process was not (a signal to its job alone, or
  // this sweep's parent ending, which the jobs notice first): the pool
  // started nothing after it, so the rest is not done either.
  const stoppedRun = results.find((r) => r.type === "stopped");
  if (signal.aborted || stoppedRun) {
    const why = signal.aborted
      ? signal.reason
      : `seed ${stoppedRun!.spec.seed} of ${
        stoppedRun!.spec.hypothesisId
      } was stopped (${stoppedRun!.message})`;
    console.error(
      `stopped: ${why}; finished runs are recorded, running ones resume from their checkpoints on the next sweep`,
    );
    return null;
  }
  return {
    failed: results.filter((r) => r.type === "failed").length,
    diverged: results.filter((r) => r.type === "diverged").length,
  };
}

export async function main(args: string[]): Promise<number> {
  const a = await parseSweepArgs(args);
  if (a === null) {
    console.log(HELP);
    return 0;
  }
  // A queue that refuses us is one line before any planning or training.
  const queue = a.queue;
  if (queue !== undefined && !a.dryRun) {
    await queueSettings(() => checkRedis(queue));
    console.error(`queue: ${queue.url}`);
  }
  const p = await planSweep(a);
  if (p.adopted > 0) {
    console.error(
      `note: ${p.adopted} run(s) taken from the cache's kept records (the same run keys, trained for another records folder)`,
    );
  }
  printSummary(a, p);
  if (a.dryRun) {
    printDryRun(a, p);
    return 0;
  }
  if (p.todo.length === 0) return 0;
  const signal = stopSignal();
  let outcome: Failures;
  if (a.queue !== undefined) {
    const { submitAndRecord } = await import("../executor/queue_submit.ts");
    outcome = await submitAndRecord(a.queue, p.packs, p.todo, { signal });
  } else outcome = await runOnPool(a, p, signal);
  if (outcome === null) return stoppedExitCode();
  const { failed, diverged } = outcome;
  const ids = a.hypotheses.map((h) => h.id).join(" ");
  console.log(
    `${ids}: ${p.todo.length - failed - diverged} run(s) recorded${
      diverged ? `, ${diverged} diverged (recorded as invalid)` : ""
    }${
      failed ? `, ${failed} failed` : ""
    }; \`deno task report ${ids}\` renders the rates`,
  );
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
