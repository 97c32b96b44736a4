import assert from "node:assert/strict";
import { renderHypothesisReport } from "./hypothesis_report.ts";
import { renderIndex } from "./index_report.ts";
import { checkTables, lineWith } from "./_test_tables.ts";
import {
  makeDiverged,
  makeHypothesis,
  makeReplicate,
  makeRun,
  OUTCOMES,
} from "../../testing/records.ts";
import { SEED_RUN } from "../../step/config.ts";

const PLOTS = {
  loss: "11.2b-jiggling-loss.svg",
  cp: "11.2b-jiggling-cp.svg",
  centroid: "11.2b-jiggling-centroid.svg",
};

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
  // C went 1 -> 2 at step 10 and held to the last recorded step, 20.
  assert.ok(
    md.includes(
      "- Last change of C or P: step 10 (held from there to step 20).",
    ),
  );
  const still = makeRun({
    trajectory: { ...run.trajectory, C: [2, 2, 2, 2, 2], firstSplit: 0 },
  });
  assert.ok(
    renderHypothesisReport(h, [still], { plots: PLOTS }).includes(
      "- Last change of C or P: none (as at step 0 to step 20).",
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

Deno.test("renderHypothesisReport() shows the claim as a rate over replicates", () => {
  const h = makeHypothesis({ replicates: { count: 8 } });
  // Seeds 42, 1..7; seed 3 null (C 1, P 4), the others positive with C = 2
  // except seed 7 (C = 5, P = 3).
  const runs = [42, 1, 2, 3, 4, 5, 6, 7].map((s) =>
    s === 3
      ? makeReplicate(s, { C: 1, P: 4 })
      : s === 7
      ? makeReplicate(s, { C: 5, P: 3 })
      : makeReplicate(s, { C: 2, P: 4 })
  );
  const md = renderHypothesisReport(h, runs, { plots: PLOTS });
  assert.equal(
    md.split("\n")[2],
    "**Observed: positive** (expected: positive) ✓ · positive in 7/8 seeds (88%, 95% CI 53–98%)",
  );
  assert.equal(
    lineWith(md, "**Rate:**"),
    "**Rate:** positive in 7/8 seeds (88%, 95% CI 53–98%) at the hypothesis's own config.",
  );
  // C over 8 runs: 1, 2 x 6, 5 -> median 2, quartiles 2-2, range 1-5.
  // P: 3, 4 x 7 -> quartiles at (n-1)p = 1.75 and 5.25: both 4.
  assert.equal(lineWith(md, "| C | "), "| C | 2 | 2–2 | 1–5 | 8 |");
  assert.equal(lineWith(md, "| P | "), "| P | 4 | 4–4 | 3–4 | 8 |");
  const rows = md.split("\n").filter((l) =>
    /^\| \d+ \| smoke \| cpu \|/.test(l)
  );
  assert.equal(rows.length, 8);
  assert.equal(
    rows[0],
    "| 1 | smoke | cpu | 2 | 4 | 3, 2 | 10 | positive | ✓ |",
  );
  assert.equal(
    rows[3],
    "| 4 | smoke | cpu | 2 | 4 | 3, 2 | 10 | positive | ✓ |",
  );
  assert.equal(rows[2], "| 3 | smoke | cpu | 1 | 4 | 3, 2 | 10 | null | ✗ |");
  assert.ok(
    lineWith(md, "| seed(s) |").startsWith(
      "| seed(s) | 1, 2, 3, 4, 5, 6, 7, 42 (replicates declared: 42, 1, 2, 3, 4, 5, 6, 7)",
    ),
  );
  assert.ok(md.includes("## Replicates\n"));
  checkTables(md);
});

Deno.test("renderHypothesisReport() counts a diverged replicate as invalid, apart from the rate", () => {
  const h = makeHypothesis({ replicates: { count: 3 } });
  const runs = [
    makeReplicate(42, { C: 2, P: 4 }),
    makeDiverged(1),
    makeReplicate(2, { C: 1, P: 4 }),
  ];
  const md = renderHypothesisReport(h, runs, { plots: PLOTS });
  assert.equal(
    md.split("\n")[2],
    "**Observed: positive** (expected: positive) ✓ · positive in 1/2 seeds (50%, 95% CI 9–91%) · 1 run diverged (invalid, not counted)",
  );
  assert.equal(
    lineWith(md, "**Rate:**"),
    "**Rate:** positive in 1/2 seeds (50%, 95% CI 9–91%) at the hypothesis's own config; 1 run diverged (invalid, not counted in k or n: seed 1).",
  );
  assert.equal(
    lineWith(md, "| 1 | smoke |"),
    "| 1 | smoke | cpu | — | — | — | — | invalid (diverged at step 2) | — |",
  );
  // The distribution is of the 2 completed runs.
  assert.equal(lineWith(md, "| C | "), "| C | 1.5 | 1.25–1.75 | 1–2 | 2 |");
  const index = renderIndex([{ hypothesis: h, runs, file: "h.md" }]);
  assert.match(
    index,
    /\| positive \| positive \| positive 1\/2 \(9–91%\) \+1 invalid \| ✓ \| 2 \| 4 \|/,
  );
});

Deno.test("renderHypothesisReport() with a rate expectation shows the rule and its check", () => {
  const h = makeHypothesis({
    replicates: { count: 4 },
    expectation: {
      verdict: "positive",
      reasoning: "Noise.",
      rate: { verdict: "positive", atLeast: 0.75 },
    },
  });
  const runs = [
    makeReplicate(42, { C: 1, P: 4 }),
    makeReplicate(1, { C: 2, P: 4 }),
    makeReplicate(2, { C: 2, P: 4 }),
    makeReplicate(3, { C: 2, P: 4 }),
  ];
  const md = renderHypothesisReport(h, runs, { plots: PLOTS });
  assert.equal(
    md.split("\n")[2],
    "**Observed: positive in 3/4 seeds (75%, 95% CI 30–95%)** (expected: positive in at least 75% of seeds) ✓",
  );
  assert.ok(
    md.includes(
      "- ✓ positive in 3/4 seeds = 75%, at least the required 75%\n",
    ),
  );
  assert.ok(md.includes("✓ The observation agrees with the expectation."));
  const strict = makeHypothesis({
    ...h,
    expectation: {
      ...h.expectation,
      rate: { verdict: "positive", atLeast: 0.8 },
    },
  });
  const md2 = renderHypothesisReport(strict, runs, { plots: PLOTS });
  assert.ok(md2.split("\n")[2].endsWith(" ✗"));
  assert.ok(
    md2.includes("- ✗ positive in 3/4 seeds = 75%, below the required 80%"),
  );
});

Deno.test("renderHypothesisReport() of a sweep: one row per point and the phase diagram", () => {
  const h = makeHypothesis({
    replicates: { count: 2 },
    sweep: [{ path: "noise.scale", values: [1e-7, 3e-6] }],
    expectation: {
      verdict: "positive",
      reasoning: "r",
      boundary: {
        path: "noise.scale",
        nullAtOrBelow: 1e-7,
        positiveAtOrAbove: 3e-6,
      },
    },
  });
  const low = ["noise.scale=1e-7"];
  const runs = [
    makeReplicate(42, { C: 2, P: 4 }), // unmodified: the 3e-6 point
    makeReplicate(1, { C: 3, P: 4 }, { overrides: ["noise.scale=0.000003"] }),
    makeReplicate(42, { C: 1, P: 4 }, { overrides: low }),
    makeDiverged(1, { overrides: low }),
  ];
  const md = renderHypothesisReport(h, runs, {
    plots: { ...PLOTS, phase: "11.2b-jiggling-phase.svg" },
  });
  assert.equal(
    md.split("\n")[2],
    "**Observed: 2 of 2 checks hold** (expected: null at noise.scale ≤ 1e-7, positive at ≥ 3e-6) ✓",
  );
  assert.equal(
    lineWith(md, "| sweep |"),
    "| sweep | `noise.scale` ∈ {1e-7, 3e-6}: 2 points, each run with every replicate seed |",
  );
  assert.equal(
    lineWith(md, "| `noise.scale=1e-7`"),
    "| `noise.scale=1e-7` | 2 | 1 | 0/1 (0–79%) | null | 1 | 4 |",
  );
  assert.equal(
    lineWith(md, "| `noise.scale=3e-6`"),
    "| `noise.scale=3e-6` ★ | 2 | 0 | 2/2 (34–100%) | positive | 2.5 (quartiles 2.25–2.75, range 2–3) | 4 (quartiles 4–4, range 4–4) |",
  );
  assert.ok(md.includes("![Phase diagram](11.2b-jiggling-phase.svg)"));
  assert.ok(
    md.includes(
      "- ✓ noise.scale = 1e-7 (≤ 1e-7): null in 1/1 seeds; null majority holds",
    ),
  );
  checkTables(md);
});

Deno.test("renderHypothesisReport() sets a control beside it: config diff and outcomes", () => {
  const control = makeHypothesis({
    id: "control-layernorm",
    title: "Control",
    config: SEED_RUN,
    expectation: { verdict: "null", reasoning: "Nothing moves." },
  });
  const h = makeHypothesis({ control: "control-layernorm" });
  const md = renderHypothesisReport(h, [makeRun()], {
    plots: PLOTS,
    control: {
      hypothesis: control,
      runs: [
        makeReplicate(42, { C: 1, P: 4 }),
        makeReplicate(1, { C: 1, P: 4 }),
      ],
      file: "control-layernorm.md",
    },
  });
  assert.ok(
    md.includes(
      "Side by side with its control, [control-layernorm](control-layernorm.md): Control.",
    ),
  );
  // JIGGLE_CONFIG is SEED_RUN plus noise: one path differs.
  assert.ok(md.includes("The configs differ in 1 path"));
  assert.equal(
    lineWith(md, "| `noise` |"),
    '| `noise` | `{"param":"wte","scale":0.000003}` | null |',
  );
  assert.equal(
    lineWith(md, "| runs |"),
    "| runs | 1 (smoke; 0 invalid) | 2 (smoke; 0 invalid) |",
  );
  assert.equal(
    lineWith(md, "| rate |"),
    "| rate | positive in 1/1 seeds (100%, 95% CI 21–100%) | positive in 0/2 seeds (0%, 95% CI 0–66%) |",
  );
  assert.equal(
    lineWith(md, "| C |"),
    "| C | 2 | 1 (quartiles 1–1, range 1–1) |",
  );
  assert.equal(lineWith(md, "| expected |"), "| expected | positive | null |");
  assert.equal(lineWith(md, "| ok |"), "| ok | ✓ | ✓ |");
  const headings = md.split("\n").filter((l) => l.startsWith("## "));
  assert.ok(headings.includes("## Control"));
  checkTables(md);
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

Deno.test("a diverged run is reported as invalid: no verdict, no C/P, a ✗ in the index", () => {
  const run = makeDiverged(42);
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
  assert.match(row, /\| null \| invalid \| — \+1 invalid \| ✗ \| — \| — \|/);
});
