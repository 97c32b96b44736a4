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
import type { Tier } from "../hypothesis/types.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { BackendName } from "../runtime/engine.ts";
import { type PoolEvent, runPool } from "../executor/pool.ts";
import { intOption, parseCliArgs, runCli, UsageError } from "./errors.ts";
import { stopSignal } from "../process/lifeline.ts";
import { formatEta } from "./progress.ts";

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
  --queue redis://H:P    submit the runs to a BullMQ queue on Redis instead;
                         \`deno task worker --queue redis://H:P\` on any
                         machine with a checkout executes them
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
function progressBoard(total: number, workers: number) {
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
  return {
    setTotalSteps(n: number) {
      stepsTotal = n;
    },
    event(e: PoolEvent) {
      const what = packLabel(e.pack);
      const i = e.pack.indexOf(e.spec);
      if (e.type === "start") {
        lines[e.worker] = `${what}: starting`;
        losses.set(e.worker, e.pack.map(() => undefined));
        ends.set(e.worker, []);
      }
      if (e.type === "step") {
        stepsDone.set(e.spec.key, e.step!);
        const l = losses.get(e.worker) ?? [];
        l[i] = e.loss;
        lines[e.worker] = `${what}: ${e.step}/${e.steps} loss ${
          l.map((x) => x === undefined ? "-" : x.toFixed(4)).join(" ")
        }`;
      }
      if (e.type === "note") {
        lines[e.worker] = `${what}: ${
          e.pack.length > 1 ? `${runLabel(e.spec, false)}: ` : ""
        }${e.note}`;
      }
      if (e.type === "end") {
        done++;
        stepsFinished += stepsDone.get(e.spec.key) ?? 0;
        stepsDone.delete(e.spec.key);
        const r = e.result!;
        const status = `${r.status}${r.message ? ` (${r.message})` : ""}`;
        const ended = ends.get(e.worker) ?? [];
        ended[i] = status;
        ends.set(e.worker, ended);
        lines[e.worker] = `${what}: ${
          new Set(ended).size === 1 && e.pack.length === ended.length
            ? status
            : ended.map((x, k) =>
              x === undefined ? "" : `${runLabel(e.pack[k], false)} ${x}`
            ).filter((x) => x).join("; ")
        }`;
        draw(true);
        return;
      }
      draw();
    },
    finish() {
      draw(true);
    },
  };
}

export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(args, {
    tier: { type: "string" },
    backend: { type: "string" },
    workers: { type: "string" },
    queue: { type: "string" },
    shard: { type: "string" },
    seeds: { type: "string" },
    pack: { type: "string" },
    "checkpoint-every": { type: "string" },
    "dry-run": { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError(
      `expected one or more hypothesis ids; choose from: ${
        HYPOTHESES.map((h) => h.id).join(", ")
      }`,
    );
  }
  const hypotheses = selectHypotheses([...new Set(positionals)]);
  const tier = (values.tier ?? "smoke") as Tier;
  if (tier !== "smoke" && tier !== "full") {
    throw new UsageError("--tier must be one of: smoke, full");
  }
  const requested = values.backend ?? "auto";
  if (!["auto", "cpu", "wasm", "webgpu"].includes(requested)) {
    throw new UsageError("--backend must be one of: auto, cpu, wasm, webgpu");
  }
  const workers = intOption("workers", values.workers, { min: 1, max: 64 }) ??
    1;
  const checkpointEvery =
    intOption("checkpoint-every", values["checkpoint-every"], { min: 0 }) ??
      250;
  const packOption = intOption("pack", values.pack, { min: 1, max: 256 });
  const shard = parseShard(values.shard);
  let seeds: number[] | undefined;
  if (values.seeds !== undefined) {
    seeds = values.seeds.split(",").map((s) =>
      intOption("seeds", s.trim(), { min: 0 })!
    );
  }
  if (
    values.queue !== undefined &&
    !/^redis:\/\/[^/:]+(:\d+)?(\/\d+)?$/.test(values.queue)
  ) {
    throw new UsageError(
      `--queue must be redis://HOST:PORT, got ${JSON.stringify(values.queue)}`,
    );
  }

  const backend: BackendName = (await selectBackend(
    requested as BackendName | "auto",
  )).engine.name;
  const notes: string[] = [];
  /** Each hypothesis's runs, in the order named. */
  const plans: PlannedRun[][] = [];
  for (const h of hypotheses) {
    plans.push(
      await planRuns(h, { tier, backend, seeds, onNote: (n) => notes.push(n) }),
    );
  }
  for (const n of notes) console.error(`note: ${n}`);
  let plan = plans.flat();
  const planned = plan.length;
  if (shard) plan = shardOf(plan, shard[0], shard[1]);
  const todo = plan.filter((p) => p.record === null);
  const pack = packOption ?? defaultPack(backend);
  const packs = await packRuns(plan, pack);
  const packed = packs.filter((p) => p.length > 1).length;
  const packText = `pack ${pack}${
    packOption === undefined ? ` (the default on ${backend})` : ""
  }${
    packed
      ? `: ${packs.length} job${
        packs.length === 1 ? "" : "s"
      }, ${packed} of them packs`
      : ""
  }`;
  const counts = (runs: readonly PlannedRun[]) => {
    const left = runs.filter((p) => p.record === null).length;
    return `${
      shard ? `, shard ${shard[0]}/${shard[1]}: ${runs.length}` : ""
    }; ${runs.length - left} recorded, ${left} to run`;
  };
  const only = hypotheses.length === 1;
  for (const [i, h] of hypotheses.entries()) {
    const points = sweepPoints(h).length;
    const mine = plan.filter((p) => p.spec.hypothesisId === h.id);
    console.log(
      `${h.id} ${tier} on ${backend}: ${plans[i].length} runs (${
        (seeds ?? replicateSeeds(h)).length
      } seeds x ${points} point${points === 1 ? "" : "s"})${counts(mine)}${
        only ? `; ${packText}` : ""
      }`,
    );
  }
  if (!only) {
    console.log(
      `${hypotheses.length} hypotheses: ${planned} runs${
        counts(plan)
      }; ${packText}`,
    );
  }
  if (values["dry-run"]) {
    const line = (p: PlannedRun | RunSpec, indent: string) => {
      const spec = "spec" in p ? p.spec : p;
      const recorded = "spec" in p && p.record !== null;
      const point = spec.overrides.join(" ");
      return `${indent}${recorded ? "recorded" : "to run  "} seed ${spec.seed}${
        point ? ` ${point}` : ""
      }  key ${spec.key.slice(0, 12)}`;
    };
    // In plan order; a pack where its first run is.
    const packOf = new Map(
      packs.flatMap((members, k) => members.map((s) => [runIdOf(s), k])),
    );
    let heading = "";
    for (const p of plan) {
      if (!only && p.spec.hypothesisId !== heading) {
        heading = p.spec.hypothesisId;
        console.log(`${heading}:`);
      }
      const k = packOf.get(runIdOf(p.spec));
      if (k === undefined) console.log(line(p, "  "));
      else if (packs[k].length === 1) console.log(line(packs[k][0], "  "));
      else if (runIdOf(packs[k][0]) === runIdOf(p.spec)) {
        console.log(
          `  pack ${k + 1}: ${packs[k].length} runs trained together`,
        );
        for (const s of packs[k]) console.log(line(s, "    "));
      }
    }
    return 0;
  }
  if (todo.length === 0) return 0;

  const signal = stopSignal();
  let failed = 0, diverged = 0;
  if (values.queue !== undefined) {
    const { submitAndRecord } = await import("../executor/queue_submit.ts");
    const outcome = await submitAndRecord(values.queue, packs, todo, {
      signal,
    });
    failed = outcome.failed;
    diverged = outcome.diverged;
  } else {
    const board = progressBoard(todo.length, Math.min(workers, packs.length));
    board.setTotalSteps(
      todo.reduce((n, p) => n + p.prepared.steps, 0),
    );
    const results = await runPool(packs, {
      workers,
      recordsDir: RECORDS_DIR,
      checkpointEvery,
      onEvent: (e) => board.event(e),
      signal,
    });
    board.finish();
    failed = results.filter((r) => r.status === "error").length;
    diverged = results.filter((r) => r.status === "diverged").length;
    if (signal.aborted) {
      console.error(
        `stopped: ${signal.reason}; finished runs are recorded, running ones resume from their checkpoints on the next sweep`,
      );
      return 130;
    }
  }
  const ids = hypotheses.map((h) => h.id).join(" ");
  console.log(
    `${ids}: ${todo.length - failed - diverged} run(s) recorded${
      diverged ? `, ${diverged} diverged (recorded as invalid)` : ""
    }${
      failed ? `, ${failed} failed` : ""
    }; \`deno task report ${ids}\` renders the rates`,
  );
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
