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
import {
  type CompleteRunRecord,
  type Hypothesis,
  isComplete,
  type RunRecord,
  type RunVerdict,
  type Verdict,
} from "../experiment/types.ts";
import type { TrainConfig } from "../train/config.ts";

/** Relative file names of a report's plots. */
export interface ReportPlots {
  readonly loss: string;
  readonly cp: string;
  readonly centroid: string;
}

/** Options of {@linkcode renderHypothesisReport}. */
export interface HypothesisReportOptions {
  readonly plots: ReportPlots;
  /** Recorded outcomes the CI gate holds re-runs to (outcomes.json). */
  readonly outcomes?: readonly RecordedOutcome[];
}

/** One line of the reports index. */
export interface IndexRow {
  readonly hypothesis: Hypothesis;
  readonly runs: readonly RunRecord[];
  /** The report's file name, relative to the index. */
  readonly file: string;
}

/** What a set of runs says about a hypothesis. */
export interface Outcome {
  /** The run the report is about (the hypothesis's own seed when present). */
  readonly primary: RunRecord | null;
  /**
   * The primary run's verdict (`invalid` when it diverged); null when
   * nothing has run.
   */
  readonly observed: RunVerdict | null;
  readonly expected: Verdict;
  /** Runs whose verdict is the expected one. */
  readonly agreeing: number;
  readonly total: number;
  /**
   * The primary run reached the expected verdict and, when several
   * replicates are given, at least `replicates.minAgreeing` of them did.
   */
  readonly pass: boolean;
}

/**
 * The run a report is about: the one with the hypothesis's configured seed,
 * else the first.
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
  return runs.find((r) => r.seed === h.config.seed) ?? runs[0] ?? null;
}

/**
 * Judges a hypothesis against its runs.
 *
 * @example
 * ```ts ignore
 * const o = outcomeOf(h, runs);
 * o.pass; // true when the observed verdict is the expected one
 * ```
 */
export function outcomeOf(h: Hypothesis, runs: readonly RunRecord[]): Outcome {
  const primary = primaryRun(h, runs);
  const expected = h.expectation.verdict;
  const agreeing = runs.filter((r) => r.verdict === expected).length;
  let pass = primary !== null && primary.verdict === expected;
  if (pass && runs.length > 1 && h.replicates) {
    pass = agreeing >= h.replicates.minAgreeing;
  }
  return {
    primary,
    observed: primary?.verdict ?? null,
    expected,
    agreeing,
    total: runs.length,
    pass,
  };
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

/**
 * The one-line verdict badge, e.g. `**Observed: positive** (expected:
 * positive) ✓`.
 *
 * @example
 * ```ts ignore
 * verdictBadge(outcomeOf(h, runs));
 * ```
 */
export function verdictBadge(o: Outcome): string {
  if (o.observed === null) {
    return `**Not run yet** (expected: ${o.expected})`;
  }
  const d = o.primary?.divergence;
  if (o.observed === "invalid" && d) {
    return `**Observed: invalid** (the run diverged at step ${
      formatInt(d.step)
    }: ${d.quantity} ${String(d.value)}; expected: ${o.expected}) ✗`;
  }
  const mark = o.pass ? "✓" : "✗";
  const reps = o.total > 1
    ? ` · ${o.agreeing} of ${o.total} replicates reach the expected verdict`
    : "";
  return `**Observed: ${o.observed}** (expected: ${o.expected}) ${mark}${reps}`;
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
    ? ` (replicates declared: ${
      h.replicates.seeds.join(", ")
    }; at least ${h.replicates.minAgreeing} must agree)`
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

function replicatesSection(
  h: Hypothesis,
  runs: readonly RunRecord[],
  o: Outcome,
): string | null {
  if (runs.length <= 1) {
    if (!h.replicates) return null;
    return `Replicates are declared (seeds ${
      h.replicates.seeds.join(", ")
    }; at least ${h.replicates.minAgreeing} must reach the expected verdict), but this report includes ${runs.length} run${
      runs.length === 1 ? "" : "s"
    }.`;
  }
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const sorted = [...runs].sort((a, b) =>
    a.seed - b.seed || cmp(a.tier, b.tier) || cmp(a.backend, b.backend)
  );
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
    r.verdict === o.expected ? "✓" : "✗",
  ]);
  const need = h.replicates
    ? `; required: at least ${h.replicates.minAgreeing}, ${
      o.agreeing >= h.replicates.minAgreeing ? "met" : "**not met**"
    }`
    : "";
  return [
    table(
      ["seed", "tier", "backend", "C", "P", "populations", "verdict", "agrees"],
      rows,
    ),
    "",
    `Agreement: ${o.agreeing} of ${o.total} runs reach the expected verdict (${o.expected})${need}.`,
  ].join("\n");
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

  out.push(`# ${h.id}: ${h.title.replace(/\r?\n/g, " ")}`, "", verdictBadge(o));
  if (run) {
    out.push(
      "",
      `${run.tier} tier · ${escapeCell(run.backend)} · ${
        formatInt(run.steps)
      } of ${formatInt(config.maxSteps)} steps · seed ${run.seed}`,
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
    } steps (${run.tier} tier, ${escapeCell(run.backend)}).`
    : `**Observed:** invalid: the run diverged at step ${
      formatInt(run.divergence?.step ?? 0)
    } (${run.divergence?.quantity ?? "?"} ${
      String(run.divergence?.value)
    }; ${run.tier} tier, ${
      escapeCell(run.backend)
    }). A diverged run earns no verdict: its embedding says nothing about black holes.`;
  const match = run
    ? (o.pass
      ? "✓ The observation agrees with the expectation."
      : "✗ The observation does not agree with the expectation.")
    : "";
  section(
    "Expected vs observed",
    `**Expected:** ${o.expected}. ${h.expectation.reasoning.trim()}`,
    "",
    observed,
    ...(match ? ["", match] : []),
  );

  if (!run || !isComplete(run)) {
    section("Findings", h.findings?.trim() || "_No findings recorded yet._");
    if (run) section("Provenance", provenanceTable(run));
    return out.join("\n").replace(/\n+$/, "\n");
  }

  section("C and P", cpTable(h, run, opts.outcomes ?? []));
  section("Clusters", clustersSection(run));
  section("Trajectory", trajectorySection(run));
  const reps = replicatesSection(h, runs, o);
  if (reps !== null) section("Replicates", reps);
  section(
    "Plots",
    `![Training loss](${linkTarget(opts.plots.loss)})`,
    "",
    `![C and P over training](${linkTarget(opts.plots.cp)})`,
    "",
    `![Centroid norm over training](${linkTarget(opts.plots.centroid)})`,
  );
  section("Findings", h.findings?.trim() || "_No findings recorded yet._");
  section(
    "Provenance",
    runs.length > 1
      ? `Of the run with seed ${run.seed}; the replicates differ in seed (and cache key).\n\n${
        provenanceTable(run)
      }`
      : provenanceTable(run),
  );
  return out.join("\n").replace(/\n+$/, "\n");
}

/**
 * The reports index (`reports/README.md`): one row per hypothesis, linked
 * to its report.
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
      o.expected,
      o.observed ?? "not run",
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
    "One row per hypothesis. ok ✓: the observed verdict is the expected one (and enough replicates agree); C and P are the final numbers of the hypothesis's own seed.",
    "",
    table(
      [
        "hypothesis",
        "title",
        "expected",
        "observed",
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
