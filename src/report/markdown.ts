/**
 * Markdown reports of hypotheses and their runs, and the index of all
 * reports.
 *
 * A report is a pure function of its hypothesis and run records: no clock,
 * no locale, no environment, so regenerating reports from the cache gives
 * byte-identical files (the only timestamps are the records' own
 * `finishedAt`). Everything that comes from data (token labels, paths,
 * engine strings) is escaped for GitHub-flavoured Markdown tables, where `|`
 * ends a cell even inside a code span.
 *
 * @module
 */

import { describeToken } from "../analysis/black_holes.ts";
import type { RecordedOutcome } from "../experiment/outcomes.ts";
import { replicateSeeds } from "../experiment/plan.ts";
import {
  type Distribution,
  rateText,
  type RunSummary,
} from "../experiment/rates.ts";
import {
  type CompleteRunRecord,
  type Hypothesis,
  isComplete,
  type RunRecord,
} from "../experiment/types.ts";
import type { TrainConfig } from "../train/config.ts";
import {
  configDiff,
  expectationText,
  type Outcome,
  outcomeOf,
  type PointOutcome,
  rateFraction,
  shortRate,
} from "./claims.ts";

export {
  type Check,
  type Outcome,
  outcomeOf,
  type PointOutcome,
  primaryRun,
} from "./claims.ts";

/** Relative file names of a report's plots. */
export interface ReportPlots {
  /** The training loss plot. */
  readonly loss: string;
  /** The plot of C and P over training. */
  readonly cp: string;
  /** The plot of the centroid norm over training. */
  readonly centroid: string;
  /** The phase diagram of a sweep (linked when given). */
  readonly phase?: string;
  /** The envelope of C and P over replicates (linked when given). */
  readonly envelope?: string;
}

/** The hypothesis a report is compared with, side by side. */
export interface ControlInput {
  /** The control hypothesis. */
  readonly hypothesis: Hypothesis;
  /** Its run records (the same tier as the report's, when it has any). */
  readonly runs: readonly RunRecord[];
  /** Its report's file name, relative to this report (linked when given). */
  readonly file?: string;
}

/** Options of {@linkcode renderHypothesisReport}. */
export interface HypothesisReportOptions {
  /** File names of the plots the report embeds. */
  readonly plots: ReportPlots;
  /** Recorded outcomes the CI gate holds re-runs to (outcomes.json). */
  readonly outcomes?: readonly RecordedOutcome[];
  /** The control hypothesis (`hypothesis.control`) and its runs. */
  readonly control?: ControlInput;
}

/** One line of the reports index. */
export interface IndexRow {
  readonly hypothesis: Hypothesis;
  readonly runs: readonly RunRecord[];
  /** The report's file name, relative to the index. */
  readonly file: string;
}

// ---------------------------------------------------------------------------
// Escaping

/** Printable stand-in for a control character: `\xNN` (or `\uNNNN`). */
function visibleControl(ch: string): string {
  const c = ch.charCodeAt(0);
  return c < 0x100
    ? `\\x${c.toString(16).padStart(2, "0")}`
    : `\\u${c.toString(16).padStart(4, "0")}`;
}

// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A Markdown code span showing `text` literally, safe inside a table cell:
 * the fence is one backtick longer than the longest backtick run inside,
 * padded with spaces when the text starts or ends with a backtick, `|` is
 * written `\|` (GitHub splits cells before parsing code spans, and shows
 * `\|` inside a code span as `|`), and control characters are shown as
 * `\xNN`.
 *
 * @example
 * ```ts
 * import { codeSpan } from "./markdown.ts";
 * codeSpan("'a'"); // "`'a'`"
 * codeSpan("'`'"); // "``'`'``"
 * codeSpan("'|'"); // "`'\\|'`"
 * ```
 */
export function codeSpan(text: string): string {
  const t = text.replace(CONTROLS, visibleControl).replace(/\|/g, "\\|");
  if (t === "") return "` `";
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  // A space is stripped from both ends of a padded span, so padding is only
  // added where a backtick at the edge would otherwise merge with the fence.
  const pad = t.startsWith("`") || t.endsWith("`") ||
      (t.startsWith(" ") && t.endsWith(" ") && t.trim() !== "")
    ? " "
    : "";
  return `${fence}${pad}${t}${pad}${fence}`;
}

/**
 * Plain text for a Markdown table cell: Markdown punctuation is
 * backslash-escaped (so it shows literally), `|` cannot end the cell,
 * line breaks become spaces and control characters show as `\xNN`.
 *
 * @example
 * ```ts
 * import { escapeCell } from "./markdown.ts";
 * escapeCell("a|b `c` *d*"); // "a\\|b \\`c\\` \\*d\\*"
 * ```
 */
export function escapeCell(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, " ")
    .replace(CONTROLS, visibleControl)
    .replace(/[\\`*_{}[\]<>|#~!]/g, (c) => "\\" + c);
}

/**
 * Authored Markdown (a title, prose) placed in a table cell: kept as
 * Markdown, but line breaks become spaces and `|` is escaped.
 *
 * @example
 * ```ts
 * import { markdownCell } from "./markdown.ts";
 * markdownCell("A | B\nC"); // "A \\| B C"
 * ```
 */
export function markdownCell(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ").replace(/(?<!\\)\|/g, "\\|");
}

/** A link destination that survives spaces and parentheses. */
function linkTarget(file: string): string {
  return encodeURI(file).replace(/\(/g, "%28").replace(/\)/g, "%29");
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header),
    line(header.map(() => "---")),
    ...rows.map(line),
  ].join("\n");
}

// ---------------------------------------------------------------------------
// Numbers

/**
 * An integer with comma thousands separators (locale-independent).
 *
 * @example
 * ```ts
 * import { formatInt } from "./markdown.ts";
 * formatInt(265905); // "265,905"
 * ```
 */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = Math.abs(Math.round(n)).toString().replace(
    /\B(?=(\d{3})+$)/g,
    ",",
  );
  return (n < 0 ? "-" : "") + s;
}

/**
 * A number in short scientific-friendly form: `3e-6`, `0.001`, `1.5`.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./markdown.ts";
 * formatNumber(3e-6); // "3e-6"
 * formatNumber(0.01); // "0.01"
 * ```
 */
export function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) {
    return Number(x.toPrecision(6)).toExponential().replace("e+", "e");
  }
  return String(Number(x.toPrecision(6)));
}

/**
 * A duration in milliseconds for people: `850 ms`, `12.3 s`, `4 min 05 s`,
 * `1 h 02 min 03 s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./markdown.ts";
 * formatDuration(3_723_400); // "1 h 02 min 03 s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "unknown";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  // Below 59.95 s the one-decimal form cannot round up to "60.0 s".
  if (ms < 59_950) return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (v: number) => String(v).padStart(2, "0");
  return h > 0 ? `${h} h ${two(m)} min ${two(s)} s` : `${m} min ${two(s)} s`;
}

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** Small magnitudes (displacements ~1e-5) need exponents to be read. */
function small(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toFixed(6);
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

// ---------------------------------------------------------------------------
// Pieces

/** A count with its noun: `1 run`, `3 runs`. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** A quantile: integers as they are, fractions to two decimals. */
function quantile(x: number): string {
  if (!Number.isFinite(x)) return "—";
  return Number.isInteger(x) ? formatInt(x) : String(Number(x.toFixed(2)));
}

/**
 * A distribution in one cell: `6 (quartiles 4.5–6.25, range 3–8)`; the
 * value alone for one run; `—` for none.
 *
 * @example
 * ```ts
 * import { distributionText } from "./markdown.ts";
 * import { distribution } from "../experiment/rates.ts";
 * distributionText(distribution([6, 3, 2, 1])); // "2.5 (quartiles 1.75–3.75, range 1–6)"
 * ```
 */
export function distributionText(d: Distribution): string {
  if (d.n === 0) return "—";
  if (d.n === 1) return quantile(d.median);
  return `${quantile(d.median)} (quartiles ${quantile(d.q1)}–${
    quantile(d.q3)
  }, range ${quantile(d.min)}–${quantile(d.max)})`;
}

/** `; 1 run diverged (invalid, counted apart: seed 5)`, or `""`. */
function invalidNote(runs: readonly RunRecord[]): string {
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
 * ```ts ignore
 * verdictBadge(h, outcomeOf(h, runs));
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

function tokenList(tokens: readonly number[]): string {
  return tokens.length === 0
    ? "—"
    : tokens.map((t) => codeSpan(describeToken(t))).join(" ");
}

const NORM_TEXT: Record<string, string> = {
  layernorm: "LayerNorm (weight and bias)",
  rmsnorm: "RMSNorm (weight only, no bias; computed in fp32)",
};

const DECAY_TEXT: Record<string, string> = {
  "hf-trainer":
    "HF Trainer policy: weights and the tied token embedding decay; biases and `nn.LayerNorm` weights do not (a custom RMSNorm's weights do)",
  "matrices-only":
    "weight matrices and embeddings only; no decay on biases or any norm weight",
};

function objectiveText(c: TrainConfig): string {
  const T = c.seqLen;
  if (c.objective === "double-shift") {
    return `double-shift: the logits at position t are trained on byte t+2, not t+1 ` +
      `(the dataset already shifts labels by one and HF GPT2LMHeadModel shifts them ` +
      `again inside its loss); ${
        T - 1
      } targets per row, the summed loss divided by ` +
      `${T} per row as in transformers 4.57`;
  }
  if (c.objective === "next-token") {
    return "next-token: the logits at position t are trained on byte t+1 (the usual language-model objective)";
  }
  return escapeCell(String(c.objective));
}

/** A sweep value as it is written in an override. */
function valueText(v: unknown): string {
  return typeof v === "number" ? formatNumber(v) : String(v);
}

function sweepText(h: Hypothesis): string {
  const axes = h.sweep ?? [];
  const points = axes.reduce((n, a) => n * a.values.length, 1);
  return axes.map((a) =>
    `${codeSpan(a.path)} ∈ {${a.values.map(valueText).join(", ")}}`
  ).join(" × ") +
    `: ${plural(points, "point")}, each run with every replicate seed`;
}

function designTable(
  h: Hypothesis,
  c: TrainConfig,
  runs: readonly RunRecord[],
  primary: RunRecord | null,
): string {
  const m = c.model;
  const norm = `${NORM_TEXT[m.norm] ?? escapeCell(String(m.norm))}, eps ${
    formatNumber(m.normEps)
  }`;
  const precision = c.precision === "bf16" && c.autocast
    ? "bf16 storage (parameters and AdamW moments rounded to bf16 after every step) plus autocast emulation: every matrix product, forward and backward, takes bf16 operands and returns a bf16 result; parameter gradients are bf16; other activations fp32"
    : c.precision === "bf16"
    ? "bf16 storage: parameters and AdamW moments rounded to bf16 (nearest even) after every step; activations and gradients fp32"
    : c.precision === "fp32"
    ? "fp32 throughout"
    : escapeCell(String(c.precision));
  const init = c.embeddingInit === "qwen"
    ? "`qwen`: every token-embedding row is the same random unit vector; other weights GPT-2 init"
    : c.embeddingInit === "gpt2"
    ? "`gpt2`: token embedding N(0, 0.02) like the other weights"
    : escapeCell(String(c.embeddingInit));
  const noise = c.noise
    ? `${codeSpan(c.noise.param)} += bf16(randn) × ${
      formatNumber(c.noise.scale)
    } after every optimizer step${
      c.precision === "bf16" ? ", the sum rounded to bf16" : ""
    } (the scale is the multiplier actually applied to the normal draws)`
    : "none";
  const a = c.adamw;
  const schedule = `AdamW, lr ${
    formatNumber(a.lr)
  } decaying linearly to 0 over ${
    formatInt(c.maxSteps)
  } steps, no warmup; betas (${formatNumber(a.beta1)}, ${
    formatNumber(a.beta2)
  }), eps ${formatNumber(a.eps)}`;
  const decay = `${formatNumber(a.weightDecay)}; ${
    DECAY_TEXT[c.decay] ?? escapeCell(String(c.decay))
  }`;
  const clip = c.clipNorm === null
    ? "none"
    : `global gradient norm ${
      formatNumber(c.clipNorm)
    } (gradients scaled by min(1, ${
      formatNumber(c.clipNorm)
    } / (norm + 1e-6)))`;
  let steps = `maxSteps ${formatInt(c.maxSteps)} (schedule length)`;
  if (primary) {
    steps = `${formatInt(primary.steps)} run of ${formatInt(c.maxSteps)}` +
      (primary.steps < c.maxSteps
        ? ` (${primary.tier} tier: the first ${
          formatInt(primary.steps)
        } steps of the full schedule)`
        : "");
  }
  const seeds = runs.length > 1
    ? [...new Set(runs.map((r) => r.seed))].sort((x, y) => x - y).map(String)
      .join(", ")
    : String(primary?.seed ?? c.seed);
  const declared = h.replicates
    ? ` (replicates declared: ${replicateSeeds(h).join(", ")})`
    : "";
  const model =
    `GPT-2 (HF layout): vocab ${m.vocabSize}, d_model ${m.dModel}, ${m.nLayer} layers, ${m.nHead} heads, context ${m.context}, ${
      m.tiedHead ? "tied" : "untied"
    } output head`;
  return table(["setting", "value"], [
    ["model", model],
    ["norm", norm],
    ["precision", precision],
    ["init", init],
    ["noise", noise],
    ["objective", objectiveText(c)],
    ["batch", `${formatInt(c.batchSize)} windows per step`],
    ["seqLen", `${formatInt(c.seqLen)} tokens per window`],
    ["steps", steps],
    ["lr schedule", schedule],
    ["weight decay", decay],
    ["gradient clip", clip],
    ["seed(s)", seeds + declared],
    ...(h.sweep?.length ? [["sweep", sweepText(h)]] : []),
  ]);
}

function sameNumbers(
  a: { C: number; P: number; populations: readonly number[] },
  b: { C: number; P: number; populations: readonly number[] },
): boolean {
  return a.C === b.C && a.P === b.P &&
    a.populations.length === b.populations.length &&
    a.populations.every((p, i) => p === b.populations[i]);
}

function populationsOf(run: CompleteRunRecord): number[] {
  return run.final.clusters.map((c) => c.population);
}

function pops(p: readonly number[]): string {
  return p.length === 0 ? "—" : p.join(", ");
}

function cpTable(
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

function clustersSection(run: CompleteRunRecord): string {
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

function trajectorySection(run: CompleteRunRecord): string {
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

function runsTable(o: Outcome, runs: readonly RunRecord[]): string {
  const sorted = [...runs].sort((a, b) => a.seed - b.seed);
  const rows = sorted.map((r) => [
    String(r.seed),
    r.tier,
    escapeCell(r.backend),
    isComplete(r) ? String(r.final.C) : "—",
    isComplete(r) ? String(r.final.P) : "—",
    isComplete(r) ? pops(populationsOf(r)) : "—",
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
      "verdict",
      `${o.claimVerdict}?`,
    ],
    rows,
  );
}

function replicatesSection(h: Hypothesis, o: Outcome): string | null {
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

function pointName(p: PointOutcome): string {
  if (p.label === "") return "unmodified config";
  return p.overrides.map((x) => codeSpan(`${x.path}=${valueText(x.value)}`))
    .join(" ");
}

function sweepSection(
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

function configValue(v: unknown): string {
  if (v === undefined) return "— (absent)";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return codeSpan(v);
  if (v === null || typeof v === "boolean") return String(v);
  return codeSpan(JSON.stringify(v));
}

function controlSection(h: Hypothesis, o: Outcome, c: ControlInput): string {
  const ch = c.hypothesis;
  const co = outcomeOf(ch, c.runs);
  const name = c.file
    ? `[${escapeCell(ch.id)}](${linkTarget(c.file)})`
    : codeSpan(ch.id);
  const diff = configDiff(h.config, ch.config);
  const lines = [
    `Side by side with its control, ${name}: ${markdownCell(ch.title)}.`,
    "",
  ];
  if (diff.length === 0) {
    lines.push("The two configs are identical.");
  } else {
    lines.push(
      `The configs differ in ${
        plural(diff.length, "path")
      } (dotted config paths; everything else is the same):`,
      "",
      table(
        ["path", "this", "control"],
        diff.map((d) => [codeSpan(d.path), configValue(d.a), configValue(d.b)]),
      ),
    );
  }
  const side = (x: Outcome, hyp: Hypothesis) => {
    const runs = x.primaryPoint.runs;
    const sm = x.primaryPoint.summary;
    const tiers = [...new Set(runs.map((r) => r.tier))].join(", ");
    return {
      runs: runs.length === 0
        ? "not run yet"
        : `${runs.length} (${tiers}; ${sm.invalid} invalid)`,
      positive: sm.rate.n === 0 ? "—" : rateText("positive", sm.rate),
      C: distributionText(sm.C),
      P: distributionText(sm.P),
      expected: expectationText(hyp),
      ok: runs.length === 0 ? "—" : x.pass ? "✓" : "✗",
    };
  };
  const a = side(o, h);
  const b = side(co, ch);
  lines.push(
    "",
    "Outcomes at each hypothesis's own config:",
    "",
    table(
      ["", `this (${escapeCell(h.id)})`, `control (${escapeCell(ch.id)})`],
      [
        ["runs", a.runs, b.runs],
        ["rate", a.positive, b.positive],
        ["C", a.C, b.C],
        ["P", a.P, b.P],
        ["expected", a.expected, b.expected],
        ["ok", a.ok, b.ok],
      ],
    ),
  );
  return lines.join("\n");
}

function provenanceTable(run: RunRecord): string {
  const c = run.corpus;
  const id = run.identity;
  return table(["field", "value"], [
    ["tier", run.tier],
    ["backend", escapeCell(run.backend)],
    ["engine", escapeCell(run.engine)],
    ["backend reason", escapeCell(run.backendReason)],
    ["status", run.status],
    ["run key", codeSpan(run.key)],
    ["step graph sha256", codeSpan(id.graphSha256)],
    ["host streams", codeSpan(id.hostStreams)],
    ["analysis version", String(id.analysis)],
    [
      "overrides",
      run.overrides.length ? run.overrides.map(codeSpan).join(" ") : "none",
    ],
    [
      "corpus",
      `${codeSpan(c.path)}, ${formatInt(c.bytes)} bytes, sha256 ${
        codeSpan(c.sha256)
      }`,
    ],
    [
      "final embedding sha256",
      run.final ? codeSpan(run.final.embeddingSha256) : "— (diverged)",
    ],
    [
      "history file",
      run.history === null
        ? "none"
        : `${codeSpan(run.history.file)}, ${
          formatInt(run.history.bytes)
        } bytes, sha256 ${codeSpan(run.history.sha256)}`,
    ],
    ["cpu threads", run.threads === null ? "—" : String(run.threads)],
    ["Deno", escapeCell(run.versions.deno)],
    ["onnxruntime", escapeCell(run.versions.onnxruntime)],
    ["wall time", formatDuration(run.wallMs)],
    ["finished at", escapeCell(run.finishedAt)],
  ]);
}

// ---------------------------------------------------------------------------
// Documents

/**
 * The Markdown report of one hypothesis and its runs (one run, or several
 * replicate seeds). Deterministic: the same inputs give the same bytes.
 *
 * @example
 * ```ts ignore
 * const md = renderHypothesisReport(h, [run], {
 *   plots: { loss: "h-loss.svg", cp: "h-cp.svg", centroid: "h-centroid.svg" },
 * });
 * ```
 */
export function renderHypothesisReport(
  h: Hypothesis,
  runs: readonly RunRecord[],
  opts: HypothesisReportOptions,
): string {
  const o = outcomeOf(h, runs);
  const run = o.primary;
  const config = run?.config ?? h.config;
  const out: string[] = [];
  const section = (title: string, ...body: string[]) => {
    out.push(`## ${title}`, "", ...body, "");
  };

  out.push(
    `# ${h.id}: ${h.title.replace(/\r?\n/g, " ")}`,
    "",
    verdictBadge(h, o),
  );
  if (run) {
    out.push(
      "",
      `${run.tier} tier · ${escapeCell(run.backend)} · ${
        formatInt(run.steps)
      } of ${formatInt(config.maxSteps)} steps · seed ${run.seed}${
        run.overrides.length
          ? ` · ${run.overrides.map(codeSpan).join(" ")}`
          : ""
      }`,
    );
  }
  out.push("");

  section("Question", h.question.trim());
  section("Background", h.background.trim());
  section("Design", h.design.trim(), "", designTable(h, config, runs, run));

  const observed = !run
    ? "**Observed:** not run yet."
    : isComplete(run)
    ? `**Observed:** ${run.verdict}: C = ${run.final.C}, P = ${run.final.P} after ${
      formatInt(run.steps)
    } steps (${run.tier} tier, ${escapeCell(run.backend)}, seed ${run.seed}).`
    : `**Observed:** invalid: the run with seed ${run.seed} diverged at step ${
      formatInt(run.divergence?.step ?? 0)
    } (${run.divergence?.quantity ?? "?"} ${
      String(run.divergence?.value)
    }; ${run.tier} tier, ${
      escapeCell(run.backend)
    }). A diverged run earns no verdict: its embedding says nothing about black holes.`;
  const claim = o.claim;
  const rate = run
    ? [
      "",
      `**Rate:** ${rateText(o.claimVerdict, claim.rate)} at ${
        o.primaryPoint.label === ""
          ? "the hypothesis's own config"
          : `its own config (${pointName(o.primaryPoint)})`
      }${invalidNote(o.primaryPoint.runs)}.`,
    ]
    : [];
  const rule = o.rules.includes("primary") ? [] : [
    "",
    `**Rule:** ✓ when ${
      o.rules.map((r) =>
        r === "rate"
          ? `at least ${
            Math.round(h.expectation.rate!.atLeast * 100)
          }% of the completed runs at its own config are ${
            h.expectation.rate!.verdict
          }`
          : `every swept ${
            codeSpan(h.expectation.boundary!.path)
          } at or below ${
            formatNumber(h.expectation.boundary!.nullAtOrBelow)
          } has a null majority and every one at or above ${
            formatNumber(h.expectation.boundary!.positiveAtOrAbove)
          } a positive majority`
      ).join(", and ")
    }.`,
    "",
    ...o.checks.map((c) => `- ${c.ok ? "✓" : "✗"} ${c.text}`),
  ];
  const match = run
    ? (o.pass
      ? "✓ The observation agrees with the expectation."
      : "✗ The observation does not agree with the expectation.")
    : "";
  section(
    "Expected vs observed",
    `**Expected:** ${expectationText(h)}. ${h.expectation.reasoning.trim()}`,
    "",
    observed,
    ...rate,
    ...rule,
    ...(match ? ["", match] : []),
  );

  const complete = run !== null && isComplete(run);
  if (complete) {
    section("C and P", cpTable(h, run, opts.outcomes ?? []));
    section("Clusters", clustersSection(run));
    section("Trajectory", trajectorySection(run));
  }
  const reps = replicatesSection(h, o);
  if (reps !== null) section("Replicates", reps);
  if (h.sweep?.length) section("Sweep", sweepSection(h, o, opts.plots.phase));
  if (opts.control) section("Control", controlSection(h, o, opts.control));
  const plots: string[] = [];
  if (complete) {
    plots.push(
      `![Training loss](${linkTarget(opts.plots.loss)})`,
      "",
      `![C and P over training](${linkTarget(opts.plots.cp)})`,
      "",
      `![Centroid norm over training](${linkTarget(opts.plots.centroid)})`,
    );
  }
  if (opts.plots.envelope) {
    if (plots.length) plots.push("");
    plots.push(
      `C and P over training across the ${
        plural(o.primaryPoint.summary.C.n, "completed run")
      } at its own config: min–max band and median line per recorded step.`,
      "",
      `![C and P across replicates](${linkTarget(opts.plots.envelope)})`,
    );
  }
  if (plots.length) section("Plots", ...plots);
  section("Findings", h.findings?.trim() || "_No findings recorded yet._");
  if (run) {
    section(
      "Provenance",
      runs.length > 1
        ? `Of the run with seed ${run.seed}${
          run.overrides.length ? " at its own config" : ""
        }; the other runs differ in seed${
          h.sweep?.length ? " or sweep point" : ""
        } (and cache key).\n\n${provenanceTable(run)}`
        : provenanceTable(run),
    );
  }
  return out.join("\n").replace(/\n+$/, "\n");
}

/**
 * The reports index (`reports/README.md`): one row per hypothesis, linked
 * to its report, with the rate over seeds besides the primary run's C and P.
 *
 * @example
 * ```ts ignore
 * const md = renderIndex([{ hypothesis: h, runs: [run], file: "h.md" }]);
 * ```
 */
export function renderIndex(rows: readonly IndexRow[]): string {
  const body = rows.map(({ hypothesis: h, runs, file }) => {
    const o = outcomeOf(h, runs);
    const r = o.primary;
    return [
      `[${escapeCell(h.id)}](${linkTarget(file)})`,
      markdownCell(h.title),
      expectationText(h),
      o.observed ?? "not run",
      r ? shortRate(o.claimVerdict, o.claim.rate, o.claim.invalid) : "—",
      r ? (o.pass ? "✓" : "✗") : "—",
      r && isComplete(r) ? String(r.final.C) : "—",
      r && isComplete(r) ? String(r.final.P) : "—",
      r ? r.tier : "—",
      r ? escapeCell(r.backend) : "—",
    ];
  });
  return [
    "# Reports",
    "",
    "One row per hypothesis. observed, C and P: the run with the hypothesis's own seed and config (invalid: it diverged). rate: how many of the completed runs at its own config reach the predicted verdict, with the 95% Wilson interval (diverged runs are counted apart, as invalid). ok ✓: the expectation holds (a rate or sweep boundary when one is predicted, else the own-seed run's verdict).",
    "",
    table(
      [
        "hypothesis",
        "title",
        "expected",
        "observed",
        "rate",
        "ok",
        "C",
        "P",
        "tier",
        "backend",
      ],
      body,
    ),
    "",
  ].join("\n");
}
