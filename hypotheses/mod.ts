/**
 * Every hypothesis horizon runs, by id.
 *
 * @module
 */

import type { Hypothesis } from "../src/hypothesis/types.ts";
import { validateTrainConfig } from "../src/step/validate.ts";
import control from "./control-layernorm.ts";
import rmsnorm from "./11.2a-rmsnorm.ts";
import jiggling from "./11.2b-jiggling.ts";
import jigglingFp32 from "./11.2c-jiggling-fp32.ts";
import jigglingTiny from "./11.2d-jiggling-tiny.ts";
import jigglingAutocast from "./11.2e-jiggling-autocast.ts";
import noiseSweep from "./11.2f-noise-sweep.ts";
import jigglingPureBf16 from "./11.2g-jiggling-pure-bf16.ts";

/**
 * Throws when two hypotheses share an id (their records, reports and
 * outcomes would overwrite each other) or a config is invalid.
 */
export function checkHypotheses(list: readonly Hypothesis[]): void {
  const seen = new Set<string>();
  for (const h of list) {
    if (seen.has(h.id)) {
      throw new RangeError(
        `hypothesis id ${JSON.stringify(h.id)} is used twice`,
      );
    }
    seen.add(h.id);
    try {
      validateTrainConfig(h.config);
    } catch (e) {
      throw new RangeError(`hypothesis ${h.id}: ${(e as Error).message}`);
    }
  }
}

/** All hypotheses, in report order. */
export const HYPOTHESES: readonly Hypothesis[] = [
  control,
  rmsnorm,
  jiggling,
  jigglingFp32,
  jigglingTiny,
  jigglingAutocast,
  noiseSweep,
  jigglingPureBf16,
];
checkHypotheses(HYPOTHESES);

/** Looks a hypothesis up by id; throws a RangeError listing the valid ids. */
export function hypothesisById(id: string): Hypothesis {
  const h = HYPOTHESES.find((x) => x.id === id);
  if (!h) {
    throw new RangeError(
      `unknown hypothesis ${JSON.stringify(id)}; choose one of: ${
        HYPOTHESES.map((x) => x.id).join(", ")
      }`,
    );
  }
  return h;
}
