/**
 * What a hypothesis's runs say, before any of it is written down: the claim
 * as a rate over seeds (with its Wilson interval, from `rates.ts`) at the
 * primary point (`points.ts`), the run a report is about (the primary run),
 * and whether the expectation is met (the ✓ of a report and of the index).
 *
 * The ✓ rule, in order of precedence:
 *
 * - `expectation.rate`: the share of completed runs at the primary point
 *   that reach `rate.verdict` is at least `rate.atLeast`;
 * - `expectation.boundary`: every sweep point whose value of
 *   `boundary.path` is at or below `nullAtOrBelow` has a null majority, and
 *   every point at or above `positiveAtOrAbove` a positive majority (with at
 *   least one point on each side);
 * - otherwise: the primary run (the hypothesis's own seed at its own config)
 *   reaches `expectation.verdict`.
 *
 * When both `rate` and `boundary` are given, both must hold. Diverged runs
 * earn no verdict: they are counted apart, never in k or n.
 *
 * Everything here is a pure function of the hypothesis and its records.
 *
 * @module
 */

import { valueAt } from "../hypothesis/config_paths.ts";
import { type PointOutcome, pointsOf } from "./points.ts";
import { type RunSummary, summarize } from "./rates.ts";
import type {
  Hypothesis,
  RunRecord,
  RunVerdict,
  Verdict,
} from "../hypothesis/types.ts";

/** One condition of the ✓ rule, in words, and whether it holds. */
export interface Check {
  /** The condition and what the runs show, e.g. `positive in 7/8 seeds = 88%, ...`. */
  readonly text: string;
  /** Whether it holds. */
  readonly ok: boolean;
}

/** Which rules decide the ✓ (see the module documentation). */
export type PassRule = "rate" | "boundary" | "primary";

/** What a set of runs says about a hypothesis. */
export interface Outcome {
  /**
   * The run the report is about: the hypothesis's own seed at its own
   * config (else the first run of that point, else the first run).
   */
  readonly primary: RunRecord | null;
  /** The primary run's verdict (`invalid`: diverged); null: nothing ran. */
  readonly observed: RunVerdict | null;
  /** The verdict predicted for the hypothesis's own config. */
  readonly expected: Verdict;
  /** The verdict the claim's rate counts (`rate.verdict`, else `expected`). */
  readonly claimVerdict: Verdict;
  /**
   * Every point: the sweep grid in order (one point, `""`, without a
   * sweep), then the unmodified config when it has runs but is no sweep
   * point, then records of any other variant.
   */
  readonly points: readonly PointOutcome[];
  /** The point of the hypothesis's own config. */
  readonly primaryPoint: PointOutcome;
  /** The claim: runs at the primary point, counting `claimVerdict`. */
  readonly claim: RunSummary;
  /** The rules that decide the ✓. */
  readonly rules: readonly PassRule[];
  /** The conditions of those rules, each judged. */
  readonly checks: readonly Check[];
  /** Every check holds (and there is at least one). */
  readonly pass: boolean;
}

/** Percent without decimals, e.g. `88%`. */
function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** A number as written in a hypothesis file: `1e-8`, `0.001`, `3`. */
function numberText(x: number): string {
  const a = Math.abs(x);
  return x !== 0 && (a < 1e-3 || a >= 1e6)
    ? x.toExponential().replace("e+", "e")
    : String(x);
}

/**
 * The prediction in words: `positive`, `positive in at least 80% of
 * seeds`, `null at noise.scale ≤ 1e-8, positive at ≥ 1e-6`.
 */
export function expectationText(h: Hypothesis): string {
  const e = h.expectation;
  const parts: string[] = [];
  if (e.rate) {
    parts.push(
      `${e.rate.verdict} in at least ${pct(e.rate.atLeast)} of seeds`,
    );
  }
  if (e.boundary) {
    const b = e.boundary;
    parts.push(
      `null at ${b.path} ≤ ${numberText(b.nullAtOrBelow)}, positive at ≥ ${
        numberText(b.positiveAtOrAbove)
      }`,
    );
  }
  return parts.length ? parts.join("; ") : e.verdict;
}

function primaryRunOf(
  h: Hypothesis,
  point: PointOutcome,
  points: readonly PointOutcome[],
): RunRecord | null {
  const own = (rs: readonly RunRecord[]) =>
    rs.find((r) => r.seed === h.config.seed);
  if (point.runs.length) return own(point.runs) ?? point.runs[0];
  for (const p of points) {
    const r = own(p.runs);
    if (r) return r;
  }
  return points.find((p) => p.runs.length)?.runs[0] ?? null;
}

function boundaryChecks(
  h: Hypothesis,
  points: readonly PointOutcome[],
): Check[] {
  const b = h.expectation.boundary!;
  const checks: Check[] = [];
  let below = 0;
  let above = 0;
  for (const p of points) {
    if (!p.inSweep) continue;
    const v = valueAt(p.overrides, b.path, h.config);
    if (typeof v !== "number") continue;
    const want: Verdict | null = v <= b.nullAtOrBelow
      ? "null"
      : v >= b.positiveAtOrAbove
      ? "positive"
      : null;
    if (want === null) continue;
    if (want === "null") below++;
    else above++;
    const s = p.summary;
    const k = want === "positive" ? s.rate.k : s.rate.n - s.rate.k;
    const seen = s.rate.n === 0
      ? "no completed runs"
      : `${want} in ${k}/${s.rate.n} seeds`;
    const ok = p.majority === want;
    checks.push({
      text: `${b.path} = ${numberText(v)} (${want === "null" ? "≤" : "≥"} ${
        numberText(want === "null" ? b.nullAtOrBelow : b.positiveAtOrAbove)
      }): ${seen}; ${want} majority ${ok ? "holds" : "does not hold"}`,
      ok,
    });
  }
  if (below === 0) {
    checks.push({
      text: `no sweep point has ${b.path} ≤ ${numberText(b.nullAtOrBelow)}`,
      ok: false,
    });
  }
  if (above === 0) {
    checks.push({
      text: `no sweep point has ${b.path} ≥ ${numberText(b.positiveAtOrAbove)}`,
      ok: false,
    });
  }
  return checks;
}

/**
 * Judges a hypothesis against its runs (any sweep points, any seeds).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outcomeOf } from "./claims.ts";
 * import { rateText } from "./rates.ts";
 * import { makeHypothesis, makeReplicate } from "../testing/records.ts";
 * const h = makeHypothesis(); // expects positive; its own seed is 42
 * const o = outcomeOf(h, [
 *   makeReplicate(42, { C: 2, P: 4 }),
 *   makeReplicate(1, { C: 1, P: 4 }),
 *   makeReplicate(2, { C: 3, P: 4 }),
 * ]);
 * assert.equal(o.primary?.seed, 42);
 * assert.equal(o.pass, true); // the ✓ of the report
 * assert.equal(
 *   rateText(o.claimVerdict, o.claim.rate),
 *   "positive in 2/3 seeds (67%, 95% CI 21–94%)",
 * );
 * ```
 */
export function outcomeOf(h: Hypothesis, runs: readonly RunRecord[]): Outcome {
  const points = pointsOf(h, runs);
  const primaryPoint = points.find((p) => p.primary) ?? points[0];
  const primary = primaryRunOf(h, primaryPoint, points);
  const e = h.expectation;
  const claimVerdict = e.rate?.verdict ?? e.verdict;
  const claim = summarize(primaryPoint.runs, claimVerdict);
  const rules: PassRule[] = [];
  const checks: Check[] = [];
  if (e.rate) {
    rules.push("rate");
    const r = claim.rate;
    const ok = r.n > 0 && r.k / r.n >= e.rate.atLeast;
    checks.push({
      text: r.n === 0
        ? `no completed runs to make a rate of (at least ${
          pct(e.rate.atLeast)
        } ${e.rate.verdict} required)`
        : `${e.rate.verdict} in ${r.k}/${r.n} seeds = ${pct(r.k / r.n)}, ${
          ok ? "at least" : "below"
        } the required ${pct(e.rate.atLeast)}`,
      ok,
    });
  }
  if (e.boundary) {
    rules.push("boundary");
    checks.push(...boundaryChecks(h, points));
  }
  if (rules.length === 0) {
    rules.push("primary");
    if (primary) {
      const ok = primary.verdict === e.verdict;
      checks.push({
        text:
          `the run with seed ${primary.seed} is ${primary.verdict} (expected ${e.verdict})`,
        ok,
      });
    }
  }
  return {
    primary,
    observed: primary?.verdict ?? null,
    expected: e.verdict,
    claimVerdict,
    points,
    primaryPoint,
    claim,
    rules,
    checks,
    pass: checks.length > 0 && checks.every((c) => c.ok),
  };
}

/**
 * The run a report is about (see {@linkcode Outcome.primary}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { primaryRun } from "./claims.ts";
 * import { makeHypothesis, makeReplicate } from "../testing/records.ts";
 * const h = makeHypothesis(); // its config's seed is 42
 * const runs = [makeReplicate(1, { C: 1, P: 4 }), makeReplicate(42, { C: 2, P: 4 })];
 * assert.equal(primaryRun(h, runs)?.seed, 42);
 * ```
 */
export function primaryRun(
  h: Hypothesis,
  runs: readonly RunRecord[],
): RunRecord | null {
  return outcomeOf(h, runs).primary;
}
