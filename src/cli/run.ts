/**
 * `deno task run <hypothesis-id> [options]`: trains one hypothesis and writes
 * its run record (and embedding history). See `--help`.
 *
 * @module
 */

import { HYPOTHESES, hypothesisById } from "../../hypotheses/mod.ts";
import { RECORDS_DIR, runHypothesis, tierSteps } from "../experiment/run.ts";
import type { Tier } from "../experiment/types.ts";
import type { BackendName } from "../runtime/engine.ts";
import { parseCliArgs, runCli, UsageError } from "./errors.ts";
import { progressReporter } from "./progress.ts";

const HELP = `Usage: deno task run <hypothesis-id> [options]

Trains a hypothesis, analyses its black holes and writes its run record to
reports/data/<id>/<tier>-seed<seed>.json (history under .cache/history/).
An unchanged run (same config, steps, corpus and engine code) is not retrained.

Options:
  --tier smoke|full     smoke: the first steps of the run (default); full: all steps
  --steps N             run only the first N steps (overrides the tier)
  --backend NAME        auto (default), cpu, wasm or webgpu
  --seed N              replicate seed (default: the hypothesis's seed)
  --out DIR             where run records go (default: reports/data)
  --threads N           cpu backend threads (default: all cores)
  --trace               also export a replay trace (.cache/traces/)
  --force               retrain even if a matching record exists
  -h, --help            this help

Hypotheses: ${HYPOTHESES.map((h) => h.id).join(", ")}
`;

const TIERS = ["smoke", "full"];
const BACKENDS = ["auto", "cpu", "wasm", "webgpu"];

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(
      `--${name} must be a non-negative integer, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

export async function main(args: string[]): Promise<number> {
  const parsed = parseCliArgs(args, {
    tier: { type: "string" },
    steps: { type: "string" },
    backend: { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    threads: { type: "string" },
    trace: { type: "boolean" },
    force: { type: "boolean" },
  }, true);
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `expected one hypothesis id; choose one of: ${
        HYPOTHESES.map((h) => h.id).join(", ")
      }`,
    );
  }
  let h;
  try {
    h = hypothesisById(positionals[0]);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const tier = (values.tier ?? "smoke") as Tier;
  if (!TIERS.includes(tier)) {
    throw new UsageError(`--tier must be one of: ${TIERS.join(", ")}`);
  }
  const backend = (values.backend ?? "auto") as BackendName | "auto";
  if (!BACKENDS.includes(backend)) {
    throw new UsageError(`--backend must be one of: ${BACKENDS.join(", ")}`);
  }
  const steps = positiveInt("steps", values.steps);
  if (steps !== undefined && (steps < 1 || steps > h.config.maxSteps)) {
    throw new UsageError(`--steps must be in 1..${h.config.maxSteps}`);
  }
  const seed = positiveInt("seed", values.seed);
  const threads = positiveInt("threads", values.threads);
  const total = steps ?? tierSteps(h, tier);
  let trained = false;
  const progress = progressReporter(`${h.id} ${tier} (${total} steps)`);
  const record = await runHypothesis(h, {
    tier,
    steps,
    seed,
    backend,
    threads,
    trace: values.trace,
    useCache: !values.force,
    recordsDir: values.out ?? RECORDS_DIR,
    onStep: (info) => {
      trained = true;
      progress(info);
    },
  });
  const f = record.final;
  console.log(
    `${h.id} [${tier}, ${record.steps} steps, ${record.backend}] ` +
      `C=${f.C} P=${f.P} populations=${
        f.clusters.map((c) => c.population).join("/") || "-"
      } ` +
      `verdict=${record.verdict} (expected ${h.expectation.verdict}) ` +
      `final loss=${record.loss.at(-1)?.toFixed(4)} wall=${
        (record.wallMs / 1000).toFixed(1)
      }s${
        trained
          ? ""
          : " (cached record: same config, corpus and engine; --force retrains)"
      }`,
  );
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
