/**
 * `deno task reproduce [--tier full|smoke] [--backend NAME]`: the main job.
 * Runs every hypothesis at the tier (cached runs are reused: an unchanged
 * engine, config and corpus means nothing is retrained), then writes all
 * reports. On a 2-core CPU a full-tier hypothesis takes about 10 minutes.
 *
 * @module
 */

import { HYPOTHESES } from "../../hypotheses/mod.ts";
import { runHypothesis, tierSteps } from "../experiment/run.ts";
import type { Tier } from "../experiment/types.ts";
import type { BackendName } from "../runtime/engine.ts";
import { parseCliArgs, runCli, UsageError } from "./errors.ts";
import { progressReporter } from "./progress.ts";
import { main as report } from "./report.ts";
import { stopSignal } from "./lifeline.ts";
import { DivergedError } from "../runtime/divergence.ts";

const HELP = `Usage: deno task reproduce [--tier full|smoke] [--backend NAME]

Runs every hypothesis (default: full tier, the seeds' 10,000 steps; cached
runs are reused) and writes reports/ and reports/README.md.
`;

export async function main(args: string[]): Promise<number> {
  const values = parseCliArgs(args, {
    tier: { type: "string" },
    backend: { type: "string" },
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
  const reported = await report(tier === "smoke" ? ["--tier", "smoke"] : []);
  if (diverged > 0) {
    console.error(`error: ${diverged} run(s) diverged (reported as invalid)`);
    return 1;
  }
  return reported;
}

if (import.meta.main) await runCli(() => main(Deno.args));
