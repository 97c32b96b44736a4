import assert from "node:assert/strict";
import {
  codeSpan,
  escapeCell,
  formatDuration,
  formatInt,
  formatNumber,
  markdownCell,
  outcomeOf,
  renderHypothesisReport,
  renderIndex,
} from "./markdown.ts";
import { makeHypothesis, makeRun, OUTCOMES } from "./_test_utils.ts";

const PLOTS = {
  loss: "11.2b-jiggling-loss.svg",
  cp: "11.2b-jiggling-cp.svg",
  centroid: "11.2b-jiggling-centroid.svg",
};

/** GFM cell split: a `|` not preceded by a backslash separates cells. */
function cells(line: string): string[] {
  return line.replace(/^\|/, "").replace(/(?<!\\)\|$/, "").split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** Every table row has as many cells as its header. */
function checkTables(md: string): number {
  let tables = 0;
  let width = -1;
  for (const line of md.split("\n")) {
    if (!line.startsWith("|")) {
      width = -1;
      continue;
    }
    const n = cells(line).length;
    if (width < 0) {
      width = n;
      tables++;
    } else {assert.equal(
        n,
        width,
        `row has ${n} cells, header ${width}: ${line}`,
      );}
  }
  return tables;
}

function lineWith(md: string, prefix: string): string {
  const line = md.split("\n").find((l) => l.startsWith(prefix));
  assert.ok(line !== undefined, `no line starting with ${prefix}`);
  return line;
}

Deno.test("codeSpan() fences backticks, escapes pipes and shows controls", () => {
  assert.equal(codeSpan("'a'"), "`'a'`");
  assert.equal(codeSpan("'`'"), "``'`'``");
  assert.equal(codeSpan("a``b"), "```a``b```");
  assert.equal(codeSpan("`x"), "`` `x ``");
  assert.equal(codeSpan("'|'"), "`'\\|'`");
  assert.equal(codeSpan("a\u0000b\nc"), "`a\\x00b\\x0ac`");
  assert.equal(codeSpan(""), "` `");
});

Deno.test("escapeCell() and markdownCell() keep a table cell one cell", () => {
  assert.equal(escapeCell("a|b `c` *d*"), "a\\|b \\`c\\` \\*d\\*");
  assert.equal(escapeCell("x\ny\r\nz\u0007"), "x y z\\\\x07");
  assert.equal(escapeCell("under_score <b>"), "under\\_score \\<b\\>");
  assert.equal(markdownCell("A | B\nC"), "A \\| B C");
  assert.equal(markdownCell("already \\| escaped"), "already \\| escaped");
});

Deno.test("number formatters are locale-independent and hand-checkable", () => {
  assert.equal(formatInt(265905), "265,905");
  assert.equal(formatInt(-1000), "-1,000");
  assert.equal(formatInt(999), "999");
  assert.equal(formatNumber(3e-6), "3e-6");
  assert.equal(formatNumber(0.001), "0.001");
  assert.equal(formatNumber(0.999), "0.999");
  assert.equal(formatNumber(1e-8), "1e-8");
  assert.equal(formatDuration(850), "850 ms");
  assert.equal(formatDuration(12_345), "12.3 s");
  assert.equal(formatDuration(59_999), "1 min 00 s");
  assert.equal(formatDuration(245_000), "4 min 05 s");
  assert.equal(formatDuration(3_723_400), "1 h 02 min 03 s");
  assert.equal(formatDuration(-1), "unknown");
});

Deno.test("renderHypothesisReport() has the sections in order and a verdict badge", () => {
  const md = renderHypothesisReport(makeHypothesis(), [makeRun()], {
    plots: PLOTS,
  });
  const lines = md.split("\n");
  assert.equal(lines[0], "# 11.2b-jiggling: Synthetic jiggling | noise");
  assert.equal(lines[2], "**Observed: positive** (expected: positive) ✓");
  assert.equal(lines[4], "smoke tier · cpu · 20 of 10,000 steps · seed 42");
  const headings = lines.filter((l) => l.startsWith("## "));
  assert.deepEqual(headings, [
    "## Question",
    "## Background",
    "## Design",
    "## Expected vs observed",
    "## C and P",
    "## Clusters",
    "## Trajectory",
    "## Plots",
    "## Findings",
    "## Provenance",
  ]);
  assert.ok(
    md.endsWith("|\n"),
    "ends with the provenance table and one newline",
  );
  assert.equal(checkTables(md), 5);
});

Deno.test("renderHypothesisReport() design table spells out the run", () => {
  const md = renderHypothesisReport(makeHypothesis(), [makeRun()], {
    plots: PLOTS,
  });
  assert.equal(
    lineWith(md, "| norm |"),
    "| norm | LayerNorm (weight and bias), eps 1e-5 |",
  );
  const objective = lineWith(md, "| objective |");
  assert.match(
    objective,
    /double-shift: the logits at position t are trained on byte t\+2/,
  );
  // seqLen 128: 127 targets per row, loss divided by 128
  assert.match(
    objective,
    /127 targets per row, the summed loss divided by 128/,
  );
  assert.match(
    lineWith(md, "| noise |"),
    /^\| noise \| `wte` \+= bf16\(randn\) × 3e-6 after every optimizer step, the sum rounded to bf16/,
  );
  assert.equal(
    lineWith(md, "| steps |"),
    "| steps | 20 run of 10,000 (smoke tier: the first 20 steps of the full schedule) |",
  );
  assert.match(
    lineWith(md, "| lr schedule |"),
    /lr 0\.001 decaying linearly to 0 over 10,000 steps, no warmup/,
  );
  assert.match(
    lineWith(md, "| weight decay |"),
    /^\| weight decay \| 0\.01; HF Trainer policy/,
  );
  assert.match(lineWith(md, "| gradient clip |"), /global gradient norm 1 /);
  assert.equal(lineWith(md, "| batch |"), "| batch | 32 windows per step |");
  assert.equal(lineWith(md, "| seed(s) |"), "| seed(s) | 42 |");
});

Deno.test("renderHypothesisReport() C/P table compares with the seed notebook and records", () => {
  const md = renderHypothesisReport(makeHypothesis(), [makeRun()], {
    plots: PLOTS,
    outcomes: OUTCOMES,
  });
  assert.equal(
    lineWith(md, "| this run"),
    "| this run (smoke, cpu, seed 42, 20 steps) | 2 | 5 | 4 | 3, 2 | — |",
  );
  assert.equal(
    lineWith(md, "| seed notebook"),
    "| seed notebook (11.2b\\_synthetic\\_jiggling.ipynb) | 2 | 51 | — | 31, 20 | ✗ |",
  );
  assert.equal(
    lineWith(md, "| recorded smoke"),
    "| recorded smoke (cpu, 20 steps) | 2 | 5 | — | 3, 2 | ✓ |",
  );
  assert.match(lineWith(md, "| recorded full"), /not comparable/);
});

Deno.test("renderHypothesisReport() clusters table escapes | and ` tokens and splits dead from live", () => {
  const md = renderHypothesisReport(makeHypothesis(), [makeRun()], {
    plots: PLOTS,
  });
  // Dead tokens: NUL, ESC, '`', '|'. Cluster 1 = NUL, '`', '|' (all dead).
  assert.equal(
    lineWith(md, "| 1 |"),
    "| 1 | 3 | 3 | 0 | `\\x00` ``'`'`` `'\\|'` | — |",
  );
  // Cluster 2 = '\n', 'a' (both live).
  assert.equal(lineWith(md, "| 2 |"), "| 2 | 2 | 0 | 2 | — | `\\n` `'a'` |");
  assert.ok(md.includes("(4 here)"));
});

Deno.test("renderHypothesisReport() trajectory, plots, findings and provenance", () => {
  const h = makeHypothesis({ findings: "C split at step 10." });
  const run = makeRun({ backendReason: "line1\nline2\u0007|x" });
  const md = renderHypothesisReport(h, [run], { plots: PLOTS });
  assert.ok(
    md.includes("- Recorded: 5 points from step 0 to 20, every 5 steps."),
  );
  assert.ok(
    md.includes(
      "- First split: step 10 (the dead tokens first occupied more than one vector).",
    ),
  );
  assert.ok(
    md.includes(
      "- First escape: never (P stayed at or above the 4 dead tokens through step 20).",
    ),
  );
  assert.ok(md.includes("the centroid moved 1.230e-5 from step 0"));
  // loss 4.8 - 0.1 i, i = 0..19: mean 4.8 - 0.95 = 3.85; grad norm / 4 = 0.9625
  assert.ok(
    md.includes(
      "- Loss: 4.8000 at step 1, 3.8500 averaged over the last 20 steps (gradient norm 0.9625, before clipping).",
    ),
  );
  // changes: first (0), C 1 -> 2 (10), last (20)
  const changes = md.split("\n").filter((l) =>
    /^\| \d+ \| \d \| \d \| \d\.\d{6} \|$/.test(l)
  );
  assert.deepEqual(changes, [
    "| 0 | 1 | 5 | 1.000000 |",
    "| 10 | 2 | 5 | 0.980000 |",
    "| 20 | 2 | 5 | 0.960000 |",
  ]);
  assert.ok(md.includes("![Training loss](11.2b-jiggling-loss.svg)"));
  assert.ok(md.includes("![C and P over training](11.2b-jiggling-cp.svg)"));
  assert.ok(
    md.includes("![Centroid norm over training](11.2b-jiggling-centroid.svg)"),
  );
  assert.ok(md.includes("## Findings\n\nC split at step 10.\n"));
  assert.equal(
    lineWith(md, "| backend reason |"),
    "| backend reason | line1 line2\\\\x07\\|x |",
  );
  assert.equal(
    lineWith(md, "| wall time |"),
    "| wall time | 1 h 02 min 03 s |",
  );
  assert.equal(lineWith(md, "| run key |"), "| run key | `key-abc123` |");
  assert.equal(
    lineWith(md, "| host streams |"),
    "| host streams | `v1:0123` |",
  );
  assert.equal(
    lineWith(md, "| corpus |"),
    `| corpus | \`fixtures/corpus/brown.txt\`, 265,905 bytes, sha256 \`${
      "ab".repeat(32)
    }\` |`,
  );
  assert.equal(
    lineWith(md, "| final embedding sha256 |"),
    `| final embedding sha256 | \`${"cd".repeat(32)}\` |`,
  );
  assert.equal(
    lineWith(md, "| finished at |"),
    "| finished at | 2025-01-02T03:04:05.000Z |",
  );
  checkTables(md);
});

Deno.test("renderHypothesisReport() is deterministic and carries no timestamps of its own", () => {
  const a = renderHypothesisReport(makeHypothesis(), [makeRun()], {
    plots: PLOTS,
  });
  const b = renderHypothesisReport(makeHypothesis(), [makeRun()], {
    plots: PLOTS,
  });
  assert.equal(a, b);
  const stamps = a.match(/\d{4}-\d\d-\d\dT[\d:.]+Z?/g);
  assert.deepEqual(stamps, ["2025-01-02T03:04:05.000Z"]);
});

Deno.test("renderHypothesisReport() shows replicates with the agreement count", () => {
  const h = makeHypothesis({ replicates: { seeds: [1, 2], minAgreeing: 2 } });
  const runs = [
    makeRun({ seed: 42 }),
    makeRun({ seed: 2, verdict: "null" }),
    makeRun({ seed: 1 }),
  ];
  const md = renderHypothesisReport(h, runs, { plots: PLOTS });
  assert.equal(
    md.split("\n")[2],
    "**Observed: positive** (expected: positive) ✓ · 2 of 3 replicates reach the expected verdict",
  );
  const rows = md.split("\n").filter((l) =>
    /^\| \d+ \| smoke \| cpu \|/.test(l)
  );
  assert.deepEqual(rows, [
    "| 1 | smoke | cpu | 2 | 5 | 3, 2 | positive | ✓ |",
    "| 2 | smoke | cpu | 2 | 5 | 3, 2 | null | ✗ |",
    "| 42 | smoke | cpu | 2 | 5 | 3, 2 | positive | ✓ |",
  ]);
  assert.ok(
    md.includes(
      "Agreement: 2 of 3 runs reach the expected verdict (positive); required: at least 2, met.",
    ),
  );
  assert.equal(
    lineWith(md, "| seed(s) |").startsWith(
      "| seed(s) | 1, 2, 42 (replicates declared: 1, 2;",
    ),
    true,
  );
  // Too few agreeing replicates fail the hypothesis even if seed 42 agrees.
  const strict = makeHypothesis({
    replicates: { seeds: [1, 2], minAgreeing: 3 },
  });
  const o = outcomeOf(strict, runs);
  assert.equal(o.pass, false);
  const md2 = renderHypothesisReport(strict, runs, { plots: PLOTS });
  assert.ok(md2.split("\n")[2].includes(") ✗ ·"));
  assert.ok(md2.includes("required: at least 3, **not met**."));
});

Deno.test("renderHypothesisReport() of a hypothesis not run yet", () => {
  const md = renderHypothesisReport(makeHypothesis(), [], { plots: PLOTS });
  assert.equal(md.split("\n")[2], "**Not run yet** (expected: positive)");
  assert.ok(md.includes("| steps | maxSteps 10,000 (schedule length) |"));
  assert.ok(!md.includes("## Provenance"));
  assert.ok(md.includes("_No findings recorded yet._"));
});

Deno.test("renderHypothesisReport() marks a wrong prediction with ✗", () => {
  const md = renderHypothesisReport(
    makeHypothesis(),
    [makeRun({ verdict: "null" })],
    { plots: PLOTS },
  );
  assert.equal(md.split("\n")[2], "**Observed: null** (expected: positive) ✗");
  assert.ok(
    md.includes("✗ The observation does not agree with the expectation."),
  );
});

Deno.test("renderIndex() lists each hypothesis with its link and outcome", () => {
  const md = renderIndex([
    {
      hypothesis: makeHypothesis(),
      runs: [makeRun()],
      file: "11.2b-jiggling.md",
    },
    {
      hypothesis: makeHypothesis({ id: "11.2a rms", title: "RMSNorm" }),
      runs: [],
      file: "11.2a rms.md",
    },
  ]);
  const rows = md.split("\n").filter((l) => l.startsWith("| ["));
  assert.deepEqual(rows, [
    "| [11.2b-jiggling](11.2b-jiggling.md) | Synthetic jiggling \\| noise | positive | positive | ✓ | 2 | 5 | smoke | cpu |",
    "| [11.2a rms](11.2a%20rms.md) | RMSNorm | positive | not run | — | — | — | — | — |",
  ]);
  assert.equal(checkTables(md), 1);
  assert.ok(md.startsWith("# Reports\n"));
});

Deno.test("a diverged run is reported as invalid: no verdict, no C/P, a ✗ in the index", () => {
  const run = makeRun({
    status: "diverged",
    final: null,
    verdict: "invalid",
    divergence: { step: 2, quantity: "loss", value: NaN },
    loss: [4.8, NaN],
    gradNorm: [1, NaN],
  });
  const h = makeHypothesis({
    expectation: { verdict: "null", reasoning: "Nothing moves." },
  });
  const md = renderHypothesisReport(h, [run], { plots: PLOTS });
  assert.match(
    md,
    /\*\*Observed: invalid\*\* \(the run diverged at step 2: loss NaN; expected: null\) ✗/,
  );
  assert.ok(!md.includes("## C and P"), "a diverged run has no C/P table");
  assert.ok(!/Observed: null/.test(md));
  const index = renderIndex([{ hypothesis: h, runs: [run], file: "h.md" }]);
  const row = index.split("\n").find((l) => l.startsWith("| [11.2b"))!;
  assert.match(row, /\| null \| invalid \| ✗ \| — \| — \|/);
});
