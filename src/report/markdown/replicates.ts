/**
 * The sections over many runs: "Replicates" (the claim's rate at the
 * hypothesis's own config, the C and P distributions, one row per seed) and
 * "Sweep" (one row per sweep point, and the phase diagram).
 *
 * @module
 */

import type { Outcome } from "../../verdict/claims.ts";
import type { PointOutcome } from "../../verdict/points.ts";
import { replicateSeeds } from "../../hypothesis/grid.ts";
import {
  type Distribution,
  rateText,
  type RunSummary,
} from "../../verdict/rates.ts";
import {
  type Hypothesis,
  isComplete,
  type RunRecord,
} from "../../hypothesis/types.ts";
import { linkTarget, table } from "./blocks.ts";
import { sweepText, valueText } from "./design.ts";
import { codeSpan, escapeCell } from "./escape.ts";
import {
  distributionText,
  formatInt,
  plural,
  pops,
  quantile,
  rateFraction,
} from "./format.ts";
import { lastChange, populationsOf } from "./run_sections.ts";
import { invalidNote } from "./verdict.ts";

/** `| C | median | quartiles | range | runs |` rows of a summary. */
function distributionTable(sm: RunSummary): string {
  const row = (name: string, d: Distribution) => [
    name,
    quantile(d.median),
    d.n > 1 ? `${quantile(d.q1)}–${quantile(d.q3)}` : "—",
    d.n > 1 ? `${quantile(d.min)}–${quantile(d.max)}` : "—",
    String(d.n),
  ];
  return table(["", "median", "quartiles", "range", "completed runs"], [
    row("C", sm.C),
    row("P", sm.P),
  ]);
}

/** The step of a run's last C or P change, as a table cell. */
function changeStep(r: RunRecord): string {
  const step = lastChange(r.trajectory);
  return step === null ? "—" : formatInt(step);
}

function runsTable(o: Outcome, runs: readonly RunRecord[]): string {
  const sorted = [...runs].sort((a, b) => a.seed - b.seed);
  const rows = sorted.map((r) => [
    String(r.seed),
    r.tier,
    escapeCell(r.backend),
    isComplete(r) ? String(r.final.C) : "—",
    isComplete(r) ? String(r.final.P) : "—",
    isComplete(r) ? pops(populationsOf(r)) : "—",
    isComplete(r) ? changeStep(r) : "—",
    isComplete(r)
      ? r.verdict
      : `invalid (diverged at step ${formatInt(r.divergence?.step ?? 0)})`,
    isComplete(r) ? (r.verdict === o.claimVerdict ? "✓" : "✗") : "—",
  ]);
  return table(
    [
      "seed",
      "tier",
      "backend",
      "C",
      "P",
      "populations",
      "last C/P change",
      "verdict",
      `${o.claimVerdict}?`,
    ],
    rows,
  );
}

/**
 * The "Replicates" section: the rate at the primary point with the C and P
 * distributions and one row per seed; null for a single run without
 * declared replicates.
 */
export function replicatesSection(h: Hypothesis, o: Outcome): string | null {
  const runs = o.primaryPoint.runs;
  const where = o.primaryPoint.label === ""
    ? "the hypothesis's own config"
    : `its own config (sweep point ${pointName(o.primaryPoint)})`;
  if (runs.length <= 1) {
    if (!h.replicates) return null;
    return `Replicates are declared (seeds ${
      replicateSeeds(h).join(", ")
    }), but this report includes ${
      plural(runs.length, "run")
    } at ${where}: the rate above is of ${plural(runs.length, "run")}.`;
  }
  const sm = o.claim;
  return [
    `${plural(sm.runs, "run")} at ${where}: ${
      rateText(o.claimVerdict, sm.rate)
    }${invalidNote(runs)}.`,
    "",
    "C and P over the completed runs (quartiles interpolated between order statistics):",
    "",
    distributionTable(sm),
    "",
    runsTable(o, runs),
  ].join("\n");
}

/** A sweep point as its overrides in code spans (`unmodified config` for none). */
export function pointName(p: PointOutcome): string {
  if (p.label === "") return "unmodified config";
  return p.overrides.map((x) => codeSpan(`${x.path}=${valueText(x.value)}`))
    .join(" ");
}

/** The "Sweep" section: one row per point, and the phase diagram when given. */
export function sweepSection(
  h: Hypothesis,
  o: Outcome,
  phase: string | undefined,
): string {
  const axes = h.sweep ?? [];
  const lines: string[] = [
    `${
      sweepText(h)
    }. Per point: positive among the completed runs with its 95% Wilson interval, the majority verdict, and C and P (median, quartiles, range)${
      o.points.some((p) => p.primary && p.inSweep)
        ? "; ★ marks the hypothesis's own config"
        : ""
    }. Diverged runs are counted apart.`,
    "",
  ];
  const rows = o.points.map((p) => {
    const s = p.summary;
    return [
      pointName(p) + (p.primary && p.inSweep ? " ★" : ""),
      String(s.runs),
      String(s.invalid),
      s.rate.n === 0 ? "—" : rateFraction(s.rate),
      p.majority ?? "—",
      distributionText(s.C),
      distributionText(s.P),
    ];
  });
  lines.push(
    table(
      [
        "point",
        "runs",
        "invalid",
        "positive (95% CI)",
        "majority",
        "C",
        "P",
      ],
      rows,
    ),
  );
  if (phase) {
    lines.push("");
    if (axes.length > 1) {
      lines.push(
        `The phase diagram plots the first axis, ${
          codeSpan(axes[0].path)
        }, along x; each combination of the other axes (${
          axes.slice(1).map((a) => codeSpan(a.path)).join(", ")
        }) is a line of its own.`,
        "",
      );
    }
    lines.push(`![Phase diagram](${linkTarget(phase)})`);
  }
  return lines.join("\n");
}
