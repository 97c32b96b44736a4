/**
 * Hypotheses the pool and queue tests run in worker processes (which find
 * them through `JobOptions.hypothesesModule`): the seeds' model at test size.
 *
 * @module
 */

import type { Hypothesis } from "../hypothesis/types.ts";
import { tinyHypothesis } from "./helpers.ts";

/**
 * Two seeds x two noise scales of a tiny noisy run: four runs of one step
 * graph (the noise scale is a runtime input), 6 steps each at the smoke tier.
 */
export const PACK_TINY: Hypothesis = {
  ...tinyHypothesis("pack-tiny", {
    config: {
      maxSteps: 40,
      noise: { param: "transformer.wte.weight", scale: 3e-3 },
    },
    smokeSteps: 6,
    verdict: "positive",
  }),
  replicates: { count: 2 },
  sweep: [{ path: "noise.scale", values: [3e-3, 1e-2] }],
};

/** What a job may run besides `hypotheses/mod.ts`'s. */
const HYPOTHESES: readonly Hypothesis[] = [PACK_TINY];
export default HYPOTHESES;
