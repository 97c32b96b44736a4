/**
 * What a hypothesis's runs say, before any of it is written down: the runs
 * grouped by sweep point, the claim as a rate over seeds (with its Wilson
 * interval, from `rates.ts`), the run a report is about, and whether the
 * expectation is met (the ✓ of a report and of the index).
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

import { type Override, parseOverride } from "../experiment/overrides.ts";
import { pointLabel, sweepPoints } from "../experiment/plan.ts";
import { type Rate, type RunSummary, summarize } from "../experiment/rates.ts";
import type {
  Hypothesis,
  RunRecord,
  RunVerdict,
  Verdict,
} from "../experiment/types.ts";
import { canonicalJson } from "../train/config.ts";

/** A value a sweep axis takes (an override's value). */
export type SweepValue = Override["value"];

/** The runs of one sweep point (or of the unmodified config). */
export interface PointOutcome {
  /** Override texts joined by a space; `""` for the unmodified config. */
  readonly label: string;
  readonly overrides: readonly Override[];
  /** Whether this is a point of the hypothesis's sweep grid. */
  readonly inSweep: boolean;
  /** Whether this point is the hypothesis's own config (the primary point). */
  readonly primary: boolean;
  /** Its runs (diverged ones included): own seed first, then ascending. */
  readonly runs: readonly RunRecord[];
  /** Share positive among completed runs, and the C and P distributions. */
  readonly summary: RunSummary;
  /**
   * The verdict of more than half of the completed runs; `tie` when neither
   * has more than half, null without completed runs.
   */
  readonly majority: Verdict | "tie" | null;
}

/** One condition of the ✓ rule, in words, and whether it holds. */
export interface Check {
  readonly text: string;
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
  readonly rules: readonly PassRule[];
  readonly checks: readonly Check[];
  /** Every check holds (and there is at least one). */
  readonly pass: boolean;
}

// ---------------------------------------------------------------------------
// Configs as dotted paths

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * A config (any JSON object) as dotted paths to its leaves (numbers,
 * strings, booleans, null, arrays), in key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flattenConfig } from "./claims.ts";
 * assert.deepEqual(
 *   [...flattenConfig({ adamw: { lr: 1e-3 }, noise: null })],
 *   [["adamw.lr", 1e-3], ["noise", null]],
 * );
 * ```
 */
export function flattenConfig(config: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (v: unknown, path: string) => {
    if (isPlainObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        walk(x, path ? `${path}.${k}` : k);
      }
    } else out.set(path, v);
  };
  walk(config, "");
  return out;
}

/** One path where two configs differ; `undefined`: absent on that side. */
export interface ConfigDifference {
  readonly path: string;
  readonly a: unknown;
  readonly b: unknown;
}

/**
 * The dotted paths whose values differ between two configs, at the finest
 * level both share: where both sides are objects the comparison goes down
 * into them; where one side is an object and the other a leaf (`noise:
 * null` against `noise: {...}`) that path is one difference. Order: `a`'s
 * key order, then paths only `b` has.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configDiff } from "./claims.ts";
 * assert.deepEqual(
 *   configDiff({ m: { norm: "rmsnorm", eps: 1e-5 } }, { m: { norm: "layernorm", eps: 1e-5 } }),
 *   [{ path: "m.norm", a: "rmsnorm", b: "layernorm" }],
 * );
 * ```
 */
export function configDiff(a: unknown, b: unknown): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (isPlainObject(x) && isPlainObject(y)) {
      const keys = [
        ...Object.keys(x),
        ...Object.keys(y).filter((k) => !Object.hasOwn(x, k)),
      ];
      for (const k of keys) {
        walk(
          Object.hasOwn(x, k) ? x[k] : undefined,
          Object.hasOwn(y, k) ? y[k] : undefined,
          path ? `${path}.${k}` : k,
        );
      }
      return;
    }
    const same = x === undefined || y === undefined
      ? x === y
      : canonicalJson(x) === canonicalJson(y);
    if (!same) out.push({ path, a: x, b: y });
  };
  walk(a, b, "");
  return out;
}

// ---------------------------------------------------------------------------
// Points

/**
 * The value of `path` at a point: the point's override of it, else the
 * hypothesis config's value (undefined when the config has no such path).
 */
export function valueAt(
  overrides: readonly Override[],
  path: string,
  config: unknown,
): unknown {
  const o = overrides.find((x) => x.path === path);
  return o ? o.value : flattenConfig(config).get(path);
}

/**
 * The label of the sweep point that is the hypothesis's own config (every
 * override sets the value the config already has); `""` without a sweep or
 * when no point is.
 */
export function ownPointLabel(h: Hypothesis): string {
  const flat = flattenConfig(h.config);
  for (const p of sweepPoints(h)) {
    if (p.length > 0 && p.every((o) => flat.get(o.path) === o.value)) {
      return pointLabel(p);
    }
  }
  return "";
}

function majorityOf(runs: readonly RunRecord[]): Verdict | "tie" | null {
  const s = summarize(runs, "positive");
  const n = s.rate.n;
  if (n === 0) return null;
  if (2 * s.rate.k > n) return "positive";
  if (2 * (n - s.rate.k) > n) return "null";
  return "tie";
}

/** Own seed first, then by seed, then by backend and tier (stable). */
function orderRuns(h: Hypothesis, runs: readonly RunRecord[]): RunRecord[] {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const own = (r: RunRecord) => (r.seed === h.config.seed ? 0 : 1);
  return [...runs].sort((a, b) =>
    own(a) - own(b) || a.seed - b.seed || cmp(a.backend, b.backend) ||
    cmp(a.tier, b.tier)
  );
}

/**
 * Groups runs by sweep point. A record of the unmodified config counts at
 * the sweep point that equals the config (the same run: the same run key);
 * a run recorded both ways counts once.
 */
export function pointsOf(
  h: Hypothesis,
  runs: readonly RunRecord[],
): PointOutcome[] {
  const grid = sweepPoints(h);
  const own = ownPointLabel(h);
  const labels = grid.map(pointLabel);
  const byLabel = new Map<string, RunRecord[]>(labels.map((l) => [l, []]));
  const overridesOf = new Map<string, Override[]>(
    grid.map((p) => [pointLabel(p), p]),
  );
  const seen = new Set<string>();
  for (const r of runs) {
    const id = `${r.key} ${r.seed} ${r.backend} ${r.tier}`;
    if (seen.has(id)) continue;
    seen.add(id);
    let label = r.overrides.join(" ");
    if (label === "" && own !== "") label = own;
    if (!byLabel.has(label)) {
      byLabel.set(label, []);
      overridesOf.set(label, r.overrides.map(parseOverride));
    }
    byLabel.get(label)!.push(r);
  }
  const primaryLabel = own !== "" || !h.sweep?.length
    ? own
    : (byLabel.get("")?.length ? "" : labels[0]);
  return [...byLabel].map(([label, rs]) => {
    const ordered = orderRuns(h, rs);
    return {
      label,
      overrides: overridesOf.get(label) ?? [],
      inSweep: labels.includes(label),
      primary: label === primaryLabel,
      runs: ordered,
      summary: summarize(ordered, "positive"),
      majority: majorityOf(ordered),
    };
  });
}

// ---------------------------------------------------------------------------
// Judging

/** Percent without decimals, e.g. `88%`. */
function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/**
 * The verdict and, for several runs, the rate: `positive 7/8 (53–98%)`,
 * with ` +1 invalid` when runs diverged; `—` without completed runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shortRate } from "./claims.ts";
 * import { wilson } from "../experiment/rates.ts";
 * assert.equal(shortRate("positive", wilson(7, 8), 1), "positive 7/8 (53–98%) +1 invalid");
 * ```
 */
export function shortRate(verdict: Verdict, r: Rate, invalid = 0): string {
  const extra = invalid > 0 ? ` +${invalid} invalid` : "";
  if (r.n === 0) return `—${extra}`;
  return `${verdict} ${rateFraction(r)}${extra}`;
}

/**
 * `7/8 (53–98%)`: k/n with the 95% Wilson interval in whole percent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateFraction } from "./claims.ts";
 * import { wilson } from "../experiment/rates.ts";
 * assert.equal(rateFraction(wilson(0, 4)), "0/4 (0–49%)");
 * ```
 */
export function rateFraction(r: Rate): string {
  return `${r.k}/${r.n} (${Math.round(r.low * 100)}–${
    Math.round(r.high * 100)
  }%)`;
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
 * ```ts ignore
 * const o = outcomeOf(h, runs);
 * o.pass; // the ✓ of the report
 * rateText(o.claimVerdict, o.claim.rate); // "positive in 7/8 seeds (88%, ...)"
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
 * ```ts ignore
 * primaryRun(h, [runSeed1, runSeed42]); // runSeed42 when h.config.seed is 42
 * ```
 */
export function primaryRun(
  h: Hypothesis,
  runs: readonly RunRecord[],
): RunRecord | null {
  return outcomeOf(h, runs).primary;
}
