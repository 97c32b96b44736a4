/**
 * A hypothesis's runs grouped by sweep point: which point is its own config
 * (the primary point), the runs of each point in a fixed order, and each
 * point's rate and majority verdict.
 *
 * @module
 */

import { type Override, parseOverride } from "../hypothesis/overrides.ts";
import { pointLabel, sweepPoints } from "../hypothesis/grid.ts";
import { type RunSummary, summarize } from "./rates.ts";
import type { Hypothesis, RunRecord, Verdict } from "../hypothesis/types.ts";
import { flattenConfig } from "../hypothesis/config_paths.ts";

/** A value a sweep axis takes (an override's value). */
export type SweepValue = Override["value"];

/** The runs of one sweep point (or of the unmodified config). */
export interface PointOutcome {
  /** Override texts joined by a space; `""` for the unmodified config. */
  readonly label: string;
  /** The overrides that make the point (none for the unmodified config). */
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
