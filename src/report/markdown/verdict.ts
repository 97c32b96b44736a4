/**
 * The verdict line under a report's title, and the note on diverged runs
 * that goes with every rate.
 *
 * @module
 */

import { expectationText, type Outcome } from "../../verdict/claims.ts";
import { rateText } from "../../verdict/rates.ts";
import {
  type Hypothesis,
  isComplete,
  type RunRecord,
} from "../../hypothesis/types.ts";
import { formatInt, plural } from "./format.ts";

/** `; 1 run diverged (invalid, counted apart: seed 5)`, or `""`. */
export function invalidNote(runs: readonly RunRecord[]): string {
  const bad = runs.filter((r) => !isComplete(r));
  if (bad.length === 0) return "";
  return `; ${
    plural(bad.length, "run")
  } diverged (invalid, not counted in k or n: seed${
    bad.length === 1 ? "" : "s"
  } ${bad.map((r) => r.seed).join(", ")})`;
}

/**
 * The one-line verdict badge, e.g. `**Observed: positive** (expected:
 * positive) ✓`, or for a rate expectation `**Observed: positive in 7/8
 * seeds (88%, 95% CI 53–98%)** (expected: positive in at least 80% of
 * seeds) ✓`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outcomeOf } from "../../verdict/claims.ts";
 * import { makeHypothesis, makeReplicate } from "../../testing/records.ts";
 * import { verdictBadge } from "./verdict.ts";
 * const h = makeHypothesis(); // expects positive; its own seed is 42
 * const runs = [
 *   makeReplicate(42, { C: 2, P: 4 }),
 *   makeReplicate(1, { C: 1, P: 4 }),
 *   makeReplicate(2, { C: 3, P: 4 }),
 * ];
 * assert.equal(
 *   verdictBadge(h, outcomeOf(h, runs)),
 *   "**Observed: positive** (expected: positive) ✓ · positive in 2/3 seeds (67%, 95% CI 21–94%)",
 * );
 * ```
 */
export function verdictBadge(h: Hypothesis, o: Outcome): string {
  const expected = expectationText(h);
  if (o.observed === null) return `**Not run yet** (expected: ${expected})`;
  const mark = o.pass ? "✓" : "✗";
  const invalid = o.claim.invalid > 0
    ? ` · ${plural(o.claim.invalid, "run")} diverged (invalid, not counted)`
    : "";
  if (!o.rules.includes("primary")) {
    const seen: string[] = [];
    if (o.rules.includes("rate")) {
      seen.push(rateText(o.claimVerdict, o.claim.rate));
    }
    if (o.rules.includes("boundary")) {
      const ok = o.checks.filter((c) => c.ok).length;
      seen.push(`${ok} of ${o.checks.length} checks hold`);
    }
    return `**Observed: ${
      seen.join("; ")
    }** (expected: ${expected}) ${mark}${invalid}`;
  }
  const d = o.primary?.divergence;
  if (o.observed === "invalid" && d) {
    return `**Observed: invalid** (the run diverged at step ${
      formatInt(d.step)
    }: ${d.quantity} ${String(d.value)}; expected: ${o.expected}) ✗`;
  }
  const rate = o.claim.runs > 1
    ? ` · ${rateText(o.claimVerdict, o.claim.rate)}`
    : "";
  return `**Observed: ${o.observed}** (expected: ${o.expected}) ${mark}${rate}${invalid}`;
}
