/**
 * `deno task sweep <id> [options]`: runs a hypothesis's replicates x sweep
 * grid, skipping every run already recorded (by run key), on a local pool of
 * worker processes (default) or through a BullMQ queue on Redis
 * (`--queue`). See `--help`.
 *
 * @module
 */

import { oneHypothesis } from "./hypothesis_args.ts";
import { HYPOTHESES } from "../../hypotheses/mod.ts";
import {
  type PlannedRun,
  planRuns,
  replicateSeeds,
  shardOf,
  sweepPoints,
} from "../experiment/plan.ts";
import { RECORDS_DIR } from "../experiment/locations.ts";
import type { Tier } from "../experiment/types.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { BackendName } from "../runtime/engine.ts";
import { type PoolEvent, runPool } from "../sweep/pool.ts";
import { intOption, parseCliArgs, runCli, UsageError } from "./errors.ts";
import { stopSignal } from "./lifeline.ts";
import { formatEta } from "./progress.ts";

const HELP = `Usage: deno task sweep <hypothesis-id> [options]

Runs every replicate seed at every sweep point of a hypothesis (a run whose
record exists with the same run key is skipped), then prints what is left.
Records go to reports/data/<id>/ like \`deno task run\`; \`deno task report\`
turns them into rates.

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

/** Renders pool progress: one line per worker and an overall count/ETA. */
function progressBoard(total: number, workers: number) {
  const tty = Deno.stderr.isTerminal();
  const lines: string[] = Array(workers).fill("idle");
  let done = 0, drawn = 0, lastPrint = 0;
  const start = performance.now();
  const stepsDone = new Map<number, number>();
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
      const what = `${e.spec.hypothesisId} seed ${e.spec.seed}${
        e.spec.overrides.length ? ` [${e.spec.overrides.join(" ")}]` : ""
      }`;
      if (e.type === "start") lines[e.worker] = `${what}: starting`;
      if (e.type === "step") {
        stepsDone.set(e.worker, e.step!);
        lines[e.worker] = `${what}: ${e.step}/${e.steps} loss ${
          e.loss!.toFixed(4)
        }`;
      }
      if (e.type === "note") lines[e.worker] = `${what}: ${e.note}`;
      if (e.type === "end") {
        done++;
        stepsFinished += stepsDone.get(e.worker) ?? 0;
        stepsDone.delete(e.worker);
        const r = e.result!;
        lines[e.worker] = `${what}: ${r.status}${
          r.message ? ` (${r.message})` : ""
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
    "checkpoint-every": { type: "string" },
    "dry-run": { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const h = oneHypothesis(positionals);
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
  let plan: PlannedRun[] = await planRuns(h, {
    tier,
    backend,
    seeds,
    onNote: (n) => notes.push(n),
  });
  for (const n of notes) console.error(`note: ${n}`);
  const planned = plan.length;
  if (shard) plan = shardOf(plan, shard[0], shard[1]);
  const todo = plan.filter((p) => p.record === null);
  const points = sweepPoints(h).length;
  console.log(
    `${h.id} ${tier} on ${backend}: ${planned} runs (${
      (seeds ?? replicateSeeds(h)).length
    } seeds x ${points} point${points === 1 ? "" : "s"})${
      shard ? `, shard ${shard[0]}/${shard[1]}: ${plan.length}` : ""
    }; ${plan.length - todo.length} recorded, ${todo.length} to run`,
  );
  if (values["dry-run"]) {
    for (const p of plan) {
      console.log(
        `  ${p.record ? "recorded" : "to run  "} seed ${p.spec.seed}${
          p.point ? ` ${p.point}` : ""
        }  key ${p.spec.key.slice(0, 12)}`,
      );
    }
    return 0;
  }
  if (todo.length === 0) return 0;

  const signal = stopSignal();
  let failed = 0, diverged = 0;
  if (values.queue !== undefined) {
    const { submitAndRecord } = await import("../sweep/queue_submit.ts");
    const outcome = await submitAndRecord(values.queue, todo, { signal });
    failed = outcome.failed;
    diverged = outcome.diverged;
  } else {
    const board = progressBoard(todo.length, Math.min(workers, todo.length));
    board.setTotalSteps(
      todo.reduce((n, p) => n + p.prepared.steps, 0),
    );
    const results = await runPool(todo.map((p) => p.spec), {
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
  console.log(
    `${h.id}: ${todo.length - failed - diverged} run(s) recorded${
      diverged ? `, ${diverged} diverged (recorded as invalid)` : ""
    }${
      failed ? `, ${failed} failed` : ""
    }; \`deno task report ${h.id}\` renders the rates`,
  );
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
