/**
 * Hypothesis ids on a command line, turned into hypotheses or a one-line
 * usage error that lists the valid ids.
 *
 * @module
 */

import { HYPOTHESES, hypothesisById } from "../../hypotheses/mod.ts";
import type { Hypothesis } from "../hypothesis/types.ts";
import { UsageError } from "./errors.ts";

/** The hypotheses named by `ids`, or all of them when none is named. */
export function selectHypotheses(ids: readonly string[]): Hypothesis[] {
  try {
    return ids.length ? ids.map(hypothesisById) : [...HYPOTHESES];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Exactly one hypothesis, named by the only positional argument. */
export function oneHypothesis(ids: readonly string[]): Hypothesis {
  if (ids.length !== 1) {
    throw new UsageError(
      `expected one hypothesis id; choose one of: ${
        HYPOTHESES.map((h) => h.id).join(", ")
      }`,
    );
  }
  return selectHypotheses(ids)[0];
}
