/**
 * The sections about the primary run: "C and P" (compared with the seed
 * notebook and the recorded outcomes), "Clusters" and "Trajectory".
 *
 * @module
 */

import { describeToken } from "../../analysis/token_names.ts";
import type { RecordedOutcome } from "../../verdict/outcomes.ts";
import type {
  CompleteRunRecord,
  Hypothesis,
  RunRecord,
} from "../../hypothesis/types.ts";
import { table } from "./blocks.ts";
import { codeSpan, escapeCell } from "./escape.ts";
import { fixed, formatInt, pops, small } from "./format.ts";

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function tokenList(tokens: readonly number[]): string {
  return tokens.length === 0
    ? "—"
    : tokens.map((t) => codeSpan(describeToken(t))).join(" ");
}

function sameNumbers(
  a: { C: number; P: number; populations: readonly number[] },
  b: { C: number; P: number; populations: readonly number[] },
): boolean {
  return a.C === b.C && a.P === b.P &&
    a.populations.length === b.populations.length &&
    a.populations.every((p, i) => p === b.populations[i]);
}

/** The populations of a run's final clusters, largest first. */
export function populationsOf(run: CompleteRunRecord): number[] {
  return run.final.clusters.map((c) => c.population);
}

/**
 * The "C and P" table: this run beside the seed notebook's result and the
 * recorded outcomes (compared only where backend and length match).
 */
export function cpTable(
  h: Hypothesis,
  run: CompleteRunRecord,
  outcomes: readonly RecordedOutcome[],
): string {
  const mine = {
    C: run.final.C,
    P: run.final.P,
    populations: populationsOf(run),
  };
  const rows: string[][] = [[
    `this run (${run.tier}, ${escapeCell(run.backend)}, seed ${run.seed}, ${
      formatInt(run.steps)
    } steps)`,
    String(mine.C),
    String(mine.P),
    String(run.corpus.deadTokens.length),
    pops(mine.populations),
    "—",
  ]];
  if (h.seedResult) {
    const s = h.seedResult;
    rows.push([
      `seed notebook (${escapeCell(s.source)})`,
      String(s.C),
      String(s.P),
      "—",
      pops(s.populations),
      sameNumbers(s, mine) ? "✓" : "✗",
    ]);
  }
  for (const tier of ["full", "smoke"] as const) {
    const r = outcomes.find((o) =>
      o.tier === tier && o.seed === run.seed && o.backend === run.backend
    ) ?? outcomes.find((o) =>
      o.tier === tier && o.seed === run.seed
    );
    if (!r) continue;
    // Exact numbers are per backend and per number of steps: only a record
    // of the same backend and length can be compared with this run.
    const comparable = r.backend === run.backend && r.steps === run.steps;
    rows.push([
      `recorded ${tier} (${escapeCell(r.backend)}, ${
        formatInt(r.steps)
      } steps)`,
      String(r.C),
      String(r.P),
      "—",
      pops(r.populations),
      comparable
        ? (sameNumbers(r, mine) ? "✓" : "✗")
        : "not comparable (other backend or length)",
    ]);
  }
  return table(
    ["source", "C", "P", "dead tokens", "populations", "same as this run"],
    rows,
  );
}

/** The "Clusters" section: each cluster's dead and live tokens. */
export function clustersSection(run: CompleteRunRecord): string {
  const clusters = run.final.clusters;
  if (clusters.length === 0) {
    return "No clusters: every token-embedding row is distinct.";
  }
  const dead = new Set(run.corpus.deadTokens);
  const rows = clusters.map((c, i) => {
    const d = c.tokens.filter((t) => dead.has(t));
    const l = c.tokens.filter((t) => !dead.has(t));
    return [
      String(i + 1),
      String(c.population),
      String(d.length),
      String(l.length),
      tokenList(d),
      tokenList(l),
    ];
  });
  return [
    `Dead tokens are bytes that never occur in the corpus (${run.corpus.deadTokens.length} here); live tokens occur in it.`,
    "",
    table(
      ["#", "population", "dead", "live", "dead tokens", "live tokens"],
      rows,
    ),
  ].join("\n");
}

/**
 * The last recorded step at which C or P changed: from then on the black-hole
 * structure held to the end of the run (the first recorded step when it
 * never changed, null when nothing was recorded).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastChange } from "./run_sections.ts";
 * const t = { step: [0, 1, 2, 3], C: [1, 2, 2, 2], P: [128, 63, 60, 60] };
 * assert.equal(lastChange(t), 2);
 * assert.equal(lastChange({ step: [0, 5], C: [1, 1], P: [9, 9] }), 0);
 * assert.equal(lastChange({ step: [], C: [], P: [] }), null);
 * ```
 */
export function lastChange(
  t: Pick<RunRecord["trajectory"], "step" | "C" | "P">,
): number | null {
  if (t.step.length === 0) return null;
  for (let i = t.step.length - 1; i > 0; i--) {
    if (t.C[i] !== t.C[i - 1] || t.P[i] !== t.P[i - 1]) return t.step[i];
  }
  return t.step[0];
}

function changesTable(run: RunRecord): string {
  const t = run.trajectory;
  const n = t.step.length;
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    if (
      i === 0 || i === n - 1 || t.C[i] !== t.C[i - 1] || t.P[i] !== t.P[i - 1]
    ) idx.push(i);
  }
  const limit = 25;
  let shown = idx;
  let note = "";
  if (idx.length > limit) {
    shown = [...idx.slice(0, limit - 1), idx[idx.length - 1]];
    note = `\n\n${
      idx.length - limit
    } further changes are left out of this table; the C/P plot shows them all.`;
  }
  const rows = shown.map((i) => [
    formatInt(t.step[i]),
    String(t.C[i]),
    String(t.P[i]),
    fixed(t.centroidNorm[i], 6),
  ]);
  return "Recorded steps where C or P changed (and the first and last):\n\n" +
    table(["step", "C", "P", "centroid norm"], rows) + note;
}

/**
 * The "Trajectory" section: what was recorded, the first split and escape,
 * the centroid, the loss, and the steps where C or P changed.
 */
export function trajectorySection(run: CompleteRunRecord): string {
  const t = run.trajectory;
  const n = t.step.length;
  const lines: string[] = [];
  if (n === 0) {
    lines.push("No trajectory was recorded.");
  } else {
    const first = t.step[0];
    const last = t.step[n - 1];
    const gaps = new Set(t.step.slice(1).map((s, i) => s - t.step[i]));
    const every = gaps.size === 1
      ? `, every ${formatInt([...gaps][0])} steps`
      : "";
    lines.push(
      `- Recorded: ${n} points from step ${formatInt(first)} to ${
        formatInt(last)
      }${every}.`,
    );
    lines.push(
      t.firstSplit === null
        ? `- First split: never (the dead tokens shared one vector through step ${
          formatInt(last)
        }).`
        : `- First split: step ${
          formatInt(t.firstSplit)
        } (the dead tokens first occupied more than one vector).`,
    );
    const dead = run.corpus.deadTokens.length;
    lines.push(
      t.firstEscape === null
        ? `- First escape: never (P stayed at or above the ${dead} dead tokens through step ${
          formatInt(last)
        }).`
        : `- First escape: step ${
          formatInt(t.firstEscape)
        } (P first fell below the ${dead} dead tokens).`,
    );
    const settled = lastChange(t)!;
    lines.push(
      settled === first
        ? `- Last change of C or P: none (as at step ${
          formatInt(first)
        } to step ${formatInt(last)}).`
        : `- Last change of C or P: step ${
          formatInt(settled)
        } (held from there to step ${formatInt(last)}).`,
    );
    lines.push(
      `- Centroid norm: ${fixed(t.centroidNorm[0], 6)} at step ${
        formatInt(first)
      }, ${fixed(run.final.centroidNorm, 6)} at the end; the centroid moved ${
        small(run.final.displacement)
      } from step 0.`,
    );
  }
  if (run.loss.length > 0) {
    const k = Math.min(100, run.loss.length);
    const tail = run.loss.slice(-k);
    const gTail = run.gradNorm.slice(-k);
    lines.push(
      `- Loss: ${fixed(run.loss[0], 4)} at step 1, ${
        fixed(mean(tail), 4)
      } averaged over the last ${k} steps (gradient norm ${
        gTail.length ? fixed(mean(gTail), 4) : "—"
      }, before clipping).`,
    );
  }
  if (n > 0) lines.push("", changesTable(run));
  return lines.join("\n");
}
