/**
 * Presenting a census: a terminal summary, a Markdown report, and an atomic
 * file write for the report.
 *
 * @module
 */

import type { CensusCluster, CensusReport, TensorCensus } from "./census.ts";
import { writeTextAtomic } from "../io/atomic.ts";
import { codeSpan } from "../report/markdown/escape.ts";
import { CensusError } from "./census_error.ts";
import { escapeTokenText } from "./tokenizer.ts";
import {
  EXTRAS_METHOD,
  extrasText,
  indicatorsMarkdown,
  nearMarkdown,
} from "./near/report_sections.ts";

/** Options of the report renderers. */
interface RenderOptions {
  /** Clusters listed per tensor (largest first); default 10. */
  top?: number;
  /** Token ids shown per cluster; default 8. */
  tokensPerCluster?: number;
  /** Command line to record in the report's provenance. */
  command?: string;
  /** Timestamp to record; default now. */
  date?: Date;
}

const MAX_LABEL = 32;

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1) || trimmed;
}

/** `id "string"` with long strings shortened, or just `id` without tokenizer. */
function tokenText(cluster: CensusCluster, k: number): string {
  const id = cluster.tokens[k];
  if (cluster.labels === undefined) return String(id);
  const label = cluster.labels[k];
  if (label === null) return `${id} (no token)`;
  const chars = [...label];
  return chars.length > MAX_LABEL
    ? `${id} ${escapeTokenText(chars.slice(0, MAX_LABEL).join(""))}…`
    : `${id} ${escapeTokenText(label)}`;
}

function tokenList(cluster: CensusCluster, shown: number): string {
  const n = Math.min(shown, cluster.tokens.length);
  const parts = Array.from({ length: n }, (_, k) => tokenText(cluster, k));
  const more = cluster.tokens.length - n;
  return parts.join(", ") + (more > 0 ? `, ... (+${fmt(more)})` : "");
}

/** The non-finite rows of a tensor as a pseudo-cluster, for listing. */
function nonFiniteRows(t: TensorCensus): CensusCluster {
  return {
    population: t.nonFinite.length,
    tokens: t.nonFinite,
    ...(t.nonFiniteLabels === undefined ? {} : { labels: t.nonFiniteLabels }),
  };
}

/** "3 rows hold" / "1 row holds". */
function rowsHold(n: number): string {
  return n === 1 ? "1 row holds" : `${fmt(n)} rows hold`;
}

/** The lead of the line listing non-finite rows. */
function nonFiniteLead(t: TensorCensus): string {
  return `${
    rowsHold(t.nonFinite.length)
  } NaN/Inf values (excluded from clusters)`;
}

function roleText(role: TensorCensus["role"]): string {
  return role === "embedding+unembedding" ? "embedding and output head" : role;
}

function weightsText(report: CensusReport): string {
  if (report.index !== null) {
    return `${report.files.length} shard${
      report.files.length === 1 ? "" : "s"
    } via ${basename(report.index)}`;
  }
  return report.files.length === 1
    ? basename(report.files[0])
    : `${report.files.length} files (${report.files.map(basename).join(", ")})`;
}

function largest(t: TensorCensus, n: number): string {
  const pops = t.clusters.slice(0, n).map((c) => fmt(c.population));
  if (pops.length === 0) return "none";
  return pops.join(", ") + (t.clusters.length > n ? ", ..." : "");
}

/**
 * A plain-text summary for the terminal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCensus } from "./census.ts";
 * import { censusText } from "./report.ts";
 * import { writeSafetensors } from "../io/safetensors/mod.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const data = new Float32Array([1, 2, 0, 0, 0, 0, 3, 4]); // rows 1, 2 equal
 *   await writeSafetensors(`${dir}/model.safetensors`, {
 *     "model.embed_tokens.weight": { dtype: "F32", shape: [4, 2], data },
 *   });
 *   const text = censusText(await runCensus(dir), { top: 5 });
 *   assert.ok(text.includes("  C = 1 clusters, P = 2 rows; 3 distinct rows of 4\n"));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function censusText(
  report: CensusReport,
  options: RenderOptions = {},
): string {
  const top = options.top ?? 10;
  const perCluster = options.tokensPerCluster ?? 8;
  const bad = report.tokenizerError;
  const lines = [
    `census of ${report.path}`,
    `  weights:     ${weightsText(report)}`,
    `  tokenizer:   ${
      bad !== null
        ? `warning: ${bad.path}: ${bad.reason}; ignored, token ids are shown instead`
        : report.tokenizer === null
        ? "none (no tokenizer.json beside the weights)"
        : `${report.tokenizer.path} (${fmt(report.tokenizer.tokens)} tokens)`
    }`,
    `  output head: ${report.tying.status}: ${report.tying.detail}`,
  ];
  for (const note of report.notes) lines.push(`  note: ${note}`);
  for (const t of report.tensors) {
    lines.push(
      "",
      `${t.name}  ${t.dtype} [${t.shape.join(", ")}]  (${roleText(t.role)}, ${
        basename(t.file)
      })`,
      `  C = ${fmt(t.C)} clusters, P = ${fmt(t.P)} rows; ${
        fmt(t.distinct)
      } distinct ${t.nonFinite.length > 0 ? "finite " : ""}rows of ${
        fmt(t.shape[0])
      }`,
    );
    if (t.nonFinite.length > 0) {
      lines.push(
        `  ${nonFiniteLead(t)}: ${tokenList(nonFiniteRows(t), perCluster)}`,
      );
    }
    if (t.C > 0) {
      const n = Math.min(top, t.C);
      lines.push(`  largest clusters (${n} of ${fmt(t.C)}):`);
      t.clusters.slice(0, n).forEach((c, i) => {
        lines.push(
          `    ${String(i + 1).padStart(3)}. ${
            fmt(c.population).padStart(6)
          } rows: ${tokenList(c, perCluster)}`,
        );
      });
    }
    lines.push(...extrasText(t, { top, perCluster }));
  }
  lines.push("", `done in ${report.seconds.toFixed(2)} s`);
  return lines.join("\n");
}

function mdTokens(cluster: CensusCluster, shown: number): string {
  const n = Math.min(shown, cluster.tokens.length);
  const parts = Array.from(
    { length: n },
    (_, k) => codeSpan(tokenText(cluster, k)),
  );
  const more = cluster.tokens.length - n;
  return parts.join(", ") + (more > 0 ? `, ... (+${fmt(more)})` : "");
}

/**
 * A Markdown report in the layout of horizon's hypothesis reports: a summary
 * table, one section per tensor, method and provenance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCensus } from "./census.ts";
 * import { censusMarkdown, isCensusReportText } from "./report.ts";
 * import { writeSafetensors } from "../io/safetensors/mod.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const data = new Float32Array([1, 2, 0, 0, 0, 0, 3, 4]); // rows 1, 2 equal
 *   await writeSafetensors(`${dir}/model.safetensors`, {
 *     "model.embed_tokens.weight": { dtype: "F32", shape: [4, 2], data },
 *   });
 *   const md = censusMarkdown(await runCensus(dir));
 *   assert.ok(isCensusReportText(md));
 *   assert.ok(md.includes("\n2 of 4 rows (50.00%) sit in 1 cluster."));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function censusMarkdown(
  report: CensusReport,
  options: RenderOptions = {},
): string {
  const top = options.top ?? 10;
  const perCluster = options.tokensPerCluster ?? 8;
  const date = options.date ?? new Date();
  const out: string[] = [];
  out.push(
    `# Census: ${codeSpan(basename(report.path))}`,
    "",
    "Black holes in a model on disk: embedding rows that are bit-identical to",
    "at least one other row. **C** counts the distinct shared vectors, **P** the",
    "rows that hold them.",
    "",
    "| | |",
    "|---|---|",
    `| Path | ${codeSpan(report.path)} |`,
    `| Weights | ${codeSpan(weightsText(report))} |`,
    `| Tokenizer | ${
      report.tokenizerError !== null
        ? `**invalid**, ignored: ${
          codeSpan(basename(report.tokenizerError.path))
        } (${
          codeSpan(report.tokenizerError.reason)
        }); token ids are shown instead`
        : report.tokenizer === null
        ? "none (no `tokenizer.json` beside the weights)"
        : `${codeSpan(basename(report.tokenizer.path))}, ${
          fmt(report.tokenizer.tokens)
        } tokens`
    } |`,
    `| Output head | **${report.tying.status}**: ${
      report.tying.detail.replaceAll("|", "\\|")
    } |`,
    "",
    "## Result",
    "",
    "| Tensor | Role | Shape | Dtype | C | P | Distinct rows | Largest populations |",
    "|---|---|---|---|---:|---:|---:|---|",
  );
  for (const t of report.tensors) {
    out.push(
      `| ${codeSpan(t.name)} | ${roleText(t.role)} | ${
        t.shape.map(fmt).join(" x ")
      } | ${t.dtype} | ${fmt(t.C)} | ${fmt(t.P)} | ${fmt(t.distinct)} | ${
        largest(t, 5)
      } |`,
    );
  }
  if (report.notes.length > 0) {
    out.push("", "Notes:", "", ...report.notes.map((n) => `- ${n}`));
  }
  for (const t of report.tensors) {
    const extras = [
      ...(t.near === undefined
        ? []
        : nearMarkdown(t.near, { top, perCluster })),
      ...(t.indicators === undefined ? [] : indicatorsMarkdown(t.indicators)),
    ];
    out.push("", `## ${codeSpan(t.name)}`, "");
    const nonFinite = t.nonFinite.length === 0 ? [] : [
      "",
      `**${nonFiniteLead(t)}:** ${mdTokens(nonFiniteRows(t), perCluster)}`,
    ];
    if (t.C === 0) {
      out.push(
        t.nonFinite.length === 0
          ? `All ${fmt(t.shape[0])} rows are distinct: no black holes.`
          : `No black holes among the ${
            fmt(t.shape[0] - t.nonFinite.length)
          } finite rows.`,
        ...nonFinite,
        ...extras,
      );
      continue;
    }
    const n = Math.min(top, t.C);
    out.push(
      `${fmt(t.P)} of ${fmt(t.shape[0])} rows (${
        (100 * t.P / t.shape[0]).toFixed(2)
      }%) sit in ${fmt(t.C)} cluster${t.C === 1 ? "" : "s"}. ${
        n === t.C ? "All clusters" : `The ${n} largest`
      }, largest first:`,
      "",
      `| # | Population | Tokens${
        report.tokenizer === null ? " (ids)" : ""
      } (first ${perCluster}) |`,
      "|---:|---:|---|",
    );
    t.clusters.slice(0, n).forEach((c, i) => {
      out.push(
        `| ${i + 1} | ${fmt(c.population)} | ${mdTokens(c, perCluster)} |`,
      );
    });
    out.push(...nonFinite, ...extras);
  }
  out.push(
    "",
    "## Method",
    "",
    "Each matrix is streamed from disk in row blocks (positioned reads of its",
    "byte range only). Rows are compared bit-exactly in the stored dtype,",
    "without decoding: every row is hashed, and rows with equal hashes are",
    "confirmed by comparing their bytes, so a hash collision cannot change a",
    "count. A bit pattern is a vector: `+0` and `-0` differ. This is the same",
    "code (`src/analysis/black_holes.ts`) that counts C and P in horizon's",
    "training experiments. Token strings are shown as stored in",
    "`tokenizer.json` (byte-level BPE writes a leading space as `Ġ`), with",
    "invisible characters escaped.",
    ...(report.tensors.some((t) =>
        t.near !== undefined || t.indicators !== undefined
      )
      ? EXTRAS_METHOD
      : []),
    "",
    "## Provenance",
    "",
    "| | |",
    "|---|---|",
  );
  if (options.command !== undefined) {
    out.push(`| Command | ${codeSpan(options.command)} |`);
  }
  out.push(
    `| Files | ${report.files.map((f) => codeSpan(basename(f))).join(", ")} |`,
    `| Date | ${date.toISOString()} |`,
    `| Runtime | Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch} |`,
    `| Census time | ${report.seconds.toFixed(2)} s |`,
    "",
  );
  return out.join("\n");
}

/**
 * Whether `text` is a report the census wrote: a Markdown report from
 * `--out` (first line `# Census: `name``, a Provenance table ending with the
 * census time) or the `--json` output (an object with the fields of
 * {@linkcode CensusReport}). `deno task census --out` replaces such a file
 * without `--force`, and no other.
 *
 * @example
 * ```ts
 * import { isCensusReportText } from "./report.ts";
 * isCensusReportText("# Census: black holes in real checkpoints\n"); // false
 * isCensusReportText("{}"); // false
 * ```
 */
export function isCensusReportText(text: string): boolean {
  if (text.startsWith("# Census: `")) {
    const first = text.slice(0, text.indexOf("\n"));
    return /^# Census: `.*`$/.test(first) &&
      text.includes("\n## Provenance\n") &&
      /\n\| Census time \| \d+\.\d\d s \|\n/.test(text);
  }
  if (!text.trimStart().startsWith("{")) return false;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return false;
  }
  const r = json as Partial<Record<keyof CensusReport, unknown>> | null;
  return typeof r === "object" && r !== null && !Array.isArray(r) &&
    typeof r.path === "string" && Array.isArray(r.files) &&
    Array.isArray(r.tensors) && Array.isArray(r.notes) &&
    typeof r.tying === "object" && r.tying !== null &&
    typeof r.seconds === "number";
}

/**
 * Writes text to `path` atomically: to a temporary file in the same folder,
 * then renamed into place (the temporary file is removed on failure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CensusError } from "./census_error.ts";
 * import { writeTextFileAtomic } from "./report.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeTextFileAtomic(`${dir}/census.md`, "# Census\n");
 *   assert.equal(await Deno.readTextFile(`${dir}/census.md`), "# Census\n");
 *   // A failure is a CensusError naming the path.
 *   await assert.rejects(
 *     writeTextFileAtomic(`${dir}/missing/census.md`, ""),
 *     (e) => e instanceof CensusError && e.message.includes("missing/census.md"),
 *   );
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeTextFileAtomic(
  path: string,
  text: string,
): Promise<void> {
  try {
    await writeTextAtomic(path, text);
  } catch (e) {
    throw new CensusError(
      "io",
      `cannot write ${path} (${(e as Error).message})`,
    );
  }
}
