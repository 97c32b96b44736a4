/**
 * `deno task reproduce [--tier full|smoke] [--backend NAME] [--workers N]`:
 * the main job. Runs every hypothesis at the tier, then its replicates and
 * sweep points (recorded runs are reused: an unchanged run key means nothing
 * is retrained), then writes all reports. On a 2-core CPU one full-tier run
 * takes about 10 minutes.
 *
 * @module
 */

import { HYPOTHESES } from "../../hypotheses/mod.ts";
import { tierSteps } from "../run/prepare.ts";
import { runHypothesis } from "../run/run.ts";
import type { Tier } from "../hypothesis/types.ts";
import type { BackendName } from "../runtime/engine.ts";
import { intOption, parseCliArgs, runCli, UsageError } from "./errors.ts";
import { main as sweep } from "./sweep.ts";
import { progressReporter } from "./progress.ts";
import { main as report } from "./report.ts";
import { stopSignal } from "../process/lifeline.ts";
import { DivergedError } from "../runtime/divergence.ts";

const HELP =
  `Usage: deno task reproduce [--tier full|smoke] [--backend NAME] [--workers N] [--own-only]

Runs every hypothesis (default: full tier, the seeds' 10,000 steps; every run
already recorded under the same run key is reused), then its replicate seeds
and sweep points (\`deno task sweep\`, on N local workers), and writes
reports/ and reports/README.md. With the committed records nothing retrains;
from scratch the whole science is hours of CPU.

Options:
  --tier full|smoke   default: full
  --backend NAME      auto (default), cpu, wasm or webgpu
  --workers N         local worker processes for replicates and sweeps (default 1)
  --own-only          only each hypothesis's own run (skip replicates and sweeps)
`;

export async function main(args: string[]): Promise<number> {
  const values = parseCliArgs(args, {
    tier: { type: "string" },
    backend: { type: "string" },
    workers: { type: "string" },
    "own-only": { type: "boolean" },
  }).values;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const tier = (values.tier ?? "full") as Tier;
  if (tier !== "full" && tier !== "smoke") {
    throw new UsageError("--tier must be one of: smoke, full");
  }
  const backend = (values.backend ?? "auto") as BackendName | "auto";
  if (!["auto", "cpu", "wasm", "webgpu"].includes(backend)) {
    throw new UsageError("--backend must be one of: auto, cpu, wasm, webgpu");
  }
  const signal = stopSignal();
  let diverged = 0;
  for (const h of HYPOTHESES) {
    let r;
    try {
      r = await runHypothesis(h, {
        tier,
        backend,
        signal,
        onNote: (note) => console.error(`note: ${note}`),
        onStep: progressReporter(
          `${h.id} ${tier} (${tierSteps(h, tier)} steps)`,
        ),
      });
    } catch (e) {
      if (!(e instanceof DivergedError)) throw e;
      diverged++;
      console.error(`${h.id}: invalid, ${e.message}`);
      continue;
    }
    console.log(
      `${h.id} [${r.backend}]: C=${r.final?.C} P=${r.final?.P} verdict=${r.verdict} (expected ${h.expectation.verdict})`,
    );
  }
  const workers = intOption("workers", values.workers, { min: 1, max: 64 }) ??
    1;
  let failedSweeps = 0;
  if (!values["own-only"]) {
    for (const h of HYPOTHESES) {
      if (!h.replicates && !h.sweep) continue;
      const code = await sweep([
        h.id,
        "--tier",
        tier,
        "--backend",
        backend,
        "--workers",
        String(workers),
      ]);
      if (code === 130) return code;
      if (code !== 0) failedSweeps++;
    }
  }
  const reported = await report(tier === "smoke" ? ["--tier", "smoke"] : []);
  if (failedSweeps > 0) {
    console.error(`error: ${failedSweeps} sweep(s) had failed runs`);
    return 1;
  }
  if (diverged > 0) {
    console.error(`error: ${diverged} run(s) diverged (reported as invalid)`);
    return 1;
  }
  return reported;
}

if (import.meta.main) await runCli(() => main(Deno.args));
