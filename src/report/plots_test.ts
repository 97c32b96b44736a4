import assert from "node:assert/strict";
import { movingAverage, plotsForRun, smoothingWindow } from "./plots.ts";
import { makeHypothesis, makeRun } from "./_test_utils.ts";

Deno.test("movingAverage() is centered and shrinks at the ends (hand-computed)", () => {
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 3), [1.5, 2, 3, 4, 4.5]);
  // window 5 at index 0 covers [0, 2]: (1 + 2 + 3) / 3 = 2
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 5), [2, 2.5, 3, 3.5, 4]);
  assert.deepEqual(movingAverage([7, 8], 1), [7, 8]);
  assert.deepEqual(movingAverage([], 3), []);
});

Deno.test("movingAverage() keeps non-finite points as gaps and skips them in neighbours", () => {
  const out = movingAverage([2, 4, NaN, 8], 3);
  assert.equal(out[0], 3); // (2 + 4) / 2
  assert.equal(out[1], 3); // (2 + 4) / 2, NaN left out
  assert.ok(Number.isNaN(out[2]));
  assert.equal(out[3], 8);
  assert.throws(() => movingAverage([1], 2), RangeError);
  assert.throws(() => movingAverage([1], 0), RangeError);
});

Deno.test("smoothingWindow() is odd, about n / 50, within [1, 501]", () => {
  assert.equal(smoothingWindow(10_000), 201);
  assert.equal(smoothingWindow(20), 1);
  assert.equal(smoothingWindow(100), 3);
  assert.equal(smoothingWindow(150), 3);
  assert.equal(smoothingWindow(1_000_000), 501);
});

Deno.test("plotsForRun() of a short run: loss without smoothing, C/P stepped, centroid", () => {
  const p = plotsForRun(makeHypothesis(), [makeRun()]);
  assert.ok(p.loss.includes("<title>11.2b-jiggling: training loss</title>"));
  assert.ok(!p.loss.includes("moving average"), "20 steps: window 1");
  assert.ok(p.cp.includes("11.2b-jiggling: P, tokens in black holes"));
  assert.ok(p.cp.includes("11.2b-jiggling: C, black holes"));
  assert.ok(p.cp.includes(">dead tokens (4)</text>"));
  assert.match(
    p.cp,
    /<path d="M[\d.]+ ([\d.]+)H[\d.]+V\1" stroke="#6b7280"[^>]*stroke-dasharray/,
  );
  // C = 1,1,2,2,2 at steps 0..20: a stepped path with a rise
  const paths = [...p.cp.matchAll(/ d="(M[^"]*)" stroke="#0072B2"/g)].map((m) =>
    m[1]
  );
  assert.equal(paths.length, 2, "one P and one C line");
  for (const d of paths) assert.match(d, /^M[\d.]+ [\d.]+(H[\d.]+V[\d.]+){4}$/);
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
    const points = (m[1].match(/[ML]/g) ?? []).length;
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
