import assert from "node:assert/strict";
import { plotsForRun } from "./plots.ts";
import { decodePath } from "./svg/svg_reading.ts";
import {
  envelopeRuns,
  makeDiverged,
  makeHypothesis,
  makeReplicate,
  makeRun,
} from "../testing/records.ts";

Deno.test("plotsForRun() of a short run: loss without smoothing, C/P stepped, centroid", () => {
  const p = plotsForRun(makeHypothesis(), [makeRun()]);
  assert.ok(p.loss.includes("<title>11.2b-jiggling: training loss</title>"));
  assert.ok(!p.loss.includes("moving average"), "20 steps: window 1");
  assert.ok(p.cp.includes("11.2b-jiggling: P, tokens in black holes"));
  assert.ok(p.cp.includes("11.2b-jiggling: C, black holes"));
  assert.ok(p.cp.includes(">dead tokens (4)</text>"));
  assert.match(
    p.cp,
    /<path d="M[\d.]+ [\d.]+h[\d.]+" stroke="#6b7280"[^>]*stroke-dasharray/,
  );
  // C = 1,1,2,2,2 at steps 0..20: a stepped path with a rise
  const paths = [...p.cp.matchAll(/ d="(M[^"]*)" stroke="#0072B2"/g)].map((m) =>
    m[1]
  );
  assert.equal(paths.length, 2, "one P and one C line");
  // Steps only (h, v; a held value needs no v): P = 5 flat, C rises once.
  for (const d of paths) assert.match(d, /^M[\d.]+ [\d.]+([hv][-\d. ]+)+$/);
  assert.deepEqual(paths.map((d) => d.includes("v")), [false, true]);
  assert.ok(p.centroid.includes("norm of the token-embedding centroid"));
  for (const svg of [p.loss, p.cp, p.centroid]) {
    assert.ok(svg.startsWith("<svg "));
    assert.ok(svg.endsWith("</svg>\n"));
  }
});

Deno.test("plotsForRun() of a long run smooths the loss and stays small", () => {
  const n = 10_000;
  const loss = Array.from({ length: n }, (_, i) => 1.5 + 3 / Math.sqrt(i + 1));
  loss[5000] = 9; // a spike that must survive downsampling
  const run = makeRun({ steps: n, loss, gradNorm: loss });
  const p = plotsForRun(makeHypothesis(), [run]);
  assert.ok(p.loss.includes(">moving average (201 steps)</text>"));
  for (const m of p.loss.matchAll(/ d="(M[^"]*)"/g)) {
    const points = decodePath(m[1]).reduce((n, s) => n + s.points.length, 0);
    assert.ok(points <= 1000, `${points} points`);
  }
  // The spike is the maximum, so the y axis reaches 10 (nice tick above 9).
  assert.ok(p.loss.includes(">10</text>"));
  assert.ok(p.loss.length < 80_000, `${p.loss.length} bytes`);
});

Deno.test("plotsForRun() draws one line per seed, primary first, deterministically", () => {
  const h = makeHypothesis();
  const runs = [
    makeRun({ seed: 7 }),
    makeRun({ seed: 42 }),
    makeRun({ seed: 3 }),
  ];
  const p = plotsForRun(h, runs);
  const legend = [...p.centroid.matchAll(/>(centroid norm, seed \d+)<\/text>/g)]
    .map((m) => m[1]);
  assert.deepEqual(legend, [
    "centroid norm, seed 42",
    "centroid norm, seed 3",
    "centroid norm, seed 7",
  ]);
  // 20 steps are too short to smooth: one raw line per seed
  const lossLegend = [...p.loss.matchAll(/>(loss, seed \d+)<\/text>/g)].map((
    m,
  ) => m[1]);
  assert.deepEqual(lossLegend, [
    "loss, seed 42",
    "loss, seed 3",
    "loss, seed 7",
  ]);
  assert.deepEqual(plotsForRun(h, runs), p);
  assert.deepEqual(plotsForRun(h, [...runs].reverse()), p);
});

Deno.test("plotsForRun() without runs gives empty charts", () => {
  const p = plotsForRun(makeHypothesis(), []);
  assert.ok(p.loss.includes(">no data</text>"));
  assert.ok(p.cp.includes(">no data</text>"));
});

/**
 * A sweep over noise.scale (1e-8, 1e-7, 1e-6), four seeds per point: 0, 1
 * and 3 of them positive.
 */
function sweepCase() {
  const h = makeHypothesis({
    replicates: { count: 4 },
    sweep: [{ path: "noise.scale", values: [1e-8, 1e-7, 1e-6] }],
  });
  const at = (label: string, positive: number) =>
    [42, 1, 2, 3].map((s, i) =>
      makeReplicate(s, i < positive ? { C: 2 + i, P: 4 } : { C: 1, P: 4 }, {
        overrides: [label],
      })
    );
  const runs = [
    ...at("noise.scale=1e-8", 0),
    ...at("noise.scale=1e-7", 1),
    ...at("noise.scale=0.000001", 3),
  ];
  return { h, runs };
}

/** The `M x y1 V y2` bars of a `class="bars"` path (caps left out). */
function bars(svg: string): number[][] {
  const d = svg.match(/<path class="bars" d="([^"]*)"/)![1];
  return [...d.matchAll(/M([\d.]+) ([\d.]+)V([\d.]+)/g)].map((m) =>
    m.slice(1).map(Number)
  );
}

Deno.test("phase diagram: one Wilson bar per sweep point at hand-computed heights", () => {
  const { h, runs } = sweepCase();
  const p = plotsForRun(h, runs);
  assert.ok(p.phase !== undefined);
  // Deterministic, and independent of the order the records come in.
  assert.equal(plotsForRun(h, runs).phase, p.phase);
  assert.equal(plotsForRun(h, [...runs].reverse()).phase, p.phase);
  // The share panel comes first: one series, no legend, so its plot area
  // runs from y = 40 (share 1) to 300 - 46 = 254 (share 0): y = 254 - 214 s.
  const share = p.phase!.split('<g transform="translate(0 300)">')[0];
  const b = bars(share);
  assert.equal(b.length, 3, "one bar per sweep point");
  const y = (s: number) => Math.round((254 - 214 * s) * 100) / 100;
  // Wilson 95% intervals: 0/4 -> [0, 0.4899], 1/4 -> [0.0456, 0.6994],
  // 3/4 -> [0.3006, 0.9544].
  const expected = [[0, 0.48989], [0.04559, 0.69936], [0.30064, 0.95441]];
  b.forEach(([, lo, hi], i) => {
    assert.ok(Math.abs(lo - y(expected[i][0])) <= 0.01, `${i} low ${lo}`);
    assert.ok(Math.abs(hi - y(expected[i][1])) <= 0.01, `${i} high ${hi}`);
  });
  // Shares 0, 0.25 and 0.75 as dots on the bars.
  const dots = [...share.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)]
    .map((m) => [Number(m[1]), Number(m[2])]);
  assert.deepEqual(dots.map((d) => d[1]), [254, 200.5, 93.5]);
  // Log x axis: the three decades are evenly spaced, left to right.
  const xs = b.map((v) => v[0]);
  assert.deepEqual(dots.map((d) => d[0]), xs);
  assert.ok(xs[0] < xs[1] && xs[1] < xs[2]);
  assert.ok(Math.abs((xs[1] - xs[0]) - (xs[2] - xs[1])) <= 0.02);
  assert.ok(share.includes(">1e-7</text>"));
  // Below: P and C panels with median and range bars, one per point too.
  const [, pPanel, cPanel] = p.phase!.split(
    /<g transform="translate\(0 \d+\)">/,
  );
  assert.equal(bars(pPanel).length, 3);
  assert.equal(bars(cPanel).length, 3);
});

Deno.test("phase diagram of several axes plots the first along x and says so", () => {
  const h = makeHypothesis({
    sweep: [
      { path: "noise.scale", values: [1e-8, 1e-7] },
      { path: "adamw.lr", values: [1e-3, 1e-4] },
    ],
  });
  const runs = [
    makeReplicate(42, { C: 1, P: 4 }, {
      overrides: ["noise.scale=1e-8", "adamw.lr=0.001"],
    }),
    makeReplicate(42, { C: 2, P: 4 }, {
      overrides: ["noise.scale=1e-7", "adamw.lr=0.0001"],
    }),
  ];
  const svg = plotsForRun(h, runs).phase!;
  assert.ok(
    svg.includes("first of 2 sweep axes; the others as separate lines"),
  );
  assert.ok(svg.includes(">adamw.lr=0.001</text>"));
  assert.ok(svg.includes(">adamw.lr=1e-4</text>"));
  // No sweep: no phase diagram.
  assert.equal(plotsForRun(makeHypothesis(), [makeRun()]).phase, undefined);
});

Deno.test("envelope plot: only with two completed runs at the own config; band and median drawn", () => {
  const h = makeHypothesis({ replicates: { count: 3 } });
  const p = plotsForRun(h, envelopeRuns());
  assert.ok(p.envelope !== undefined);
  assert.ok(p.envelope!.includes("C and P across 3 seeds"));
  // The C panel (second) has a stepped band closed with Z, under a median line.
  const cPanel = p.envelope!.split('<g transform="translate(0 300)">')[1];
  assert.match(cPanel, /<path class="band" d="M[^"]*z" fill="#D55E00"/);
  assert.match(cPanel, / d="M[\d.]+ [\d.]+([hv][-\d. ]+)+" stroke="#D55E00"/);
  assert.equal(plotsForRun(h, envelopeRuns()).envelope, p.envelope);
  // One completed run (and a diverged one) is no envelope.
  const one = plotsForRun(h, [envelopeRuns()[0], makeDiverged(1)]);
  assert.equal(one.envelope, undefined);
});
