/**
 * Every hypothesis horizon runs, by id: the files of this folder, listed in
 * `registry.ts` (written by `deno task new <id> --from <id>`).
 *
 * @module
 */

import type { Hypothesis } from "../src/hypothesis/types.ts";
import { validateTrainConfig } from "../src/step/validate.ts";
import { REGISTERED } from "./registry.ts";

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

/**
 * All hypotheses, in report order: those of `registry.ts`, which
 * `deno task new` extends, so a new hypothesis needs no hand edit here.
 */
export const HYPOTHESES: readonly Hypothesis[] = REGISTERED;
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
