/**
 * The verdict rule of the seed notebooks: a run is *positive* when the black
 * hole fragmented (C > 1) or lost members (P < number of dead tokens), and
 * *null* otherwise.
 *
 * @module
 */

import type { Verdict } from "../hypothesis/types.ts";

/**
 * The verdict of a run's final C and P, given the corpus's number of dead
 * tokens: `positive` when C > 1 or P < deadTokens, else `null`.
 *
 * @example
 * ```ts
 * import { verdictOf } from "./verdict.ts";
 * verdictOf({ C: 1, P: 51 }, 51); // "null"
 * verdictOf({ C: 2, P: 51 }, 51); // "positive"
 * ```
 */
export function verdictOf(
  outcome: { C: number; P: number },
  deadTokens: number,
): Verdict {
  return outcome.C > 1 || outcome.P < deadTokens ? "positive" : "null";
}
