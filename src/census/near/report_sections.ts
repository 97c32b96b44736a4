/**
 * The near-identical and indicator parts of a census report: Markdown
 * sections and terminal lines, shown only when the census computed them.
 *
 * @module
 */

import { codeSpan } from "../../report/markdown/escape.ts";
import { escapeTokenText } from "../tokenizer.ts";
import type {
  IndicatorCensus,
  IndicatorCensusRow,
  NearCensus,
} from "./extras.ts";
import { toleranceText } from "./near_rows.ts";

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function tokenText(id: number, label: string | null | undefined): string {
  if (label === undefined) return String(id);
  if (label === null) return `${id} (no token)`;
  const chars = [...label];
  return chars.length > 32
    ? `${id} ${escapeTokenText(chars.slice(0, 32).join(""))}…`
    : `${id} ${escapeTokenText(label)}`;
}

function clusterTokens(
  c: NearCensus["clusters"][number],
  shown: number,
  span: (s: string) => string,
): string {
  const n = Math.min(shown, c.tokens.length);
  const parts = c.tokens.slice(0, n).map((id, k) =>
    span(tokenText(id, c.labels?.[k]))
  );
  const more = c.tokens.length - n;
  return parts.join(", ") + (more > 0 ? `, ... (+${fmt(more)})` : "");
}

/** Markdown lines of a tensor's near-identical clusters. */
export function nearMarkdown(
  near: NearCensus,
  options: { top: number; perCluster: number },
): string[] {
  const out = [
    "",
    `### Near-identical rows (${toleranceText(near.tolerance)})`,
    "",
  ];
  if (near.C === 0) {
    out.push("No near-identical rows beyond the exact clusters above.");
    return out;
  }
  const n = Math.min(options.top, near.C);
  out.push(
    `${fmt(near.P)} rows sit in ${fmt(near.C)} cluster${
      near.C === 1 ? "" : "s"
    } holding at least two different vectors (apart from the exact count). ${
      n === near.C ? "All clusters" : `The ${n} largest`
    }:`,
    "",
    `| # | Population | Tokens (first ${options.perCluster}) |`,
    "|---:|---:|---|",
  );
  near.clusters.slice(0, n).forEach((c, i) =>
    out.push(
      `| ${i + 1} | ${fmt(c.population)} | ${
        clusterTokens(c, options.perCluster, codeSpan)
      } |`,
    )
  );
  return out;
}

function num(x: number | undefined, digits: number): string {
  return x === undefined ? "" : x.toFixed(digits);
}

function indicatorTable(rows: IndicatorCensusRow[]): string[] {
  return [
    "| # | Token | Norm | z | Percentile | L2 to unused mean | Cosine dist. (no PC1) |",
    "|---:|---|---:|---:|---:|---:|---:|",
    ...rows.map((r, i) =>
      `| ${i + 1} | ${codeSpan(tokenText(r.token, r.label))}${
        r.knownUnused ? " (known unused)" : ""
      } | ${num(r.norm, 4)} | ${num(r.z, 2)} | ${num(r.percentile, 2)} | ${
        num(r.unusedL2, 4)
      } | ${num(r.unusedCosine, 4)} |`
    ),
  ];
}

/** Markdown lines of a tensor's under-trained-token indicators. */
export function indicatorsMarkdown(ind: IndicatorCensus): string[] {
  const out = [
    "",
    "### Under-trained-token indicators",
    "",
    `Row norms: mean ${ind.norm.mean.toFixed(4)}, standard deviation ${
      ind.norm.std.toFixed(4)
    }. Known-unused rows: ${
      ind.knownUnused.rows === 0
        ? "none (pass --unused or --unused-pattern)"
        : `${fmt(ind.knownUnused.rows)} (${ind.knownUnused.sources.join("; ")})`
    }.`,
    "",
    `Lowest norms (top ${ind.top}):`,
    "",
    ...indicatorTable(ind.byNorm),
  ];
  if (ind.byUnusedDistance !== null) {
    out.push(
      "",
      `Nearest to the known-unused mean (L2; top ${ind.top}, known-unused rows left out):`,
      "",
      ...indicatorTable(ind.byUnusedDistance),
    );
  }
  return out;
}

/** Markdown method paragraph for the near-identical and indicator parts. */
export const EXTRAS_METHOD: readonly string[] = [
  "",
  "Near-identical rows: two finite rows are near when every component",
  "differs by at most the given number of ulps of the stored dtype (`+0`",
  "and `-0` count as equal), or when their cosine similarity is at least",
  "the threshold; clusters are connected groups of that relation holding at",
  "least two different vectors. The search is exact (no false positives,",
  "no missed pairs): rows are split into cells on the most varying columns,",
  "with rows near a cell edge copied into the next cell, and candidate",
  'pairs are checked on their full rows. Indicators follow "Fishing for',
  'Magikarp" (Land & Bartolo, 2024): the row norm against all rows, the L2',
  "distance to the mean of the known-unused rows, and the cosine distance",
  "to that mean after the first principal component is removed; low values",
  "look under-trained.",
];

/** Terminal lines of a tensor's near-identical and indicator parts. */
export function extrasText(
  t: { near?: NearCensus; indicators?: IndicatorCensus },
  options: { top: number; perCluster: number },
): string[] {
  const lines: string[] = [];
  if (t.near !== undefined) {
    const near = t.near;
    lines.push(
      `  near-identical (${toleranceText(near.tolerance)}): ${
        fmt(near.C)
      } clusters, ${fmt(near.P)} rows`,
    );
    near.clusters.slice(0, options.top).forEach((c, i) =>
      lines.push(
        `    ${String(i + 1).padStart(3)}. ${
          fmt(c.population).padStart(6)
        } rows: ${clusterTokens(c, options.perCluster, (s) => s)}`,
      )
    );
  }
  if (t.indicators !== undefined) {
    const show = (r: IndicatorCensusRow) =>
      `${tokenText(r.token, r.label)} (${r.norm.toFixed(3)})`;
    const ind = t.indicators;
    lines.push(
      `  lowest norms (mean ${ind.norm.mean.toFixed(3)}): ${
        ind.byNorm.slice(0, 10).map(show).join(", ")
      }`,
    );
    if (ind.byUnusedDistance !== null) {
      lines.push(
        `  nearest to the ${fmt(ind.knownUnused.rows)} known-unused rows: ${
          ind.byUnusedDistance.slice(0, 10).map((r) =>
            tokenText(r.token, r.label)
          ).join(", ")
        }`,
      );
    }
  }
  return lines;
}
