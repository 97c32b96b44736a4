import assert from "node:assert/strict";
import { lineChart, stackedCharts } from "./chart.ts";
import { downsampleMinMax } from "./downsample.ts";
import {
  checkWellFormed,
  decodePath,
  distanceToPolyline,
  pathsOf,
  type Point,
} from "./svg_reading.ts";

/** The vertices of each subpath of the line drawn in `color`. */
function line(svg: string, color = "#0072B2"): Point[][] {
  const lines = new RegExp(`stroke="${color}".* stroke-linejoin=`);
  const [d, ...more] = pathsOf(svg, lines);
  assert.equal(more.length, 0, `one path in ${color}`);
  return decodePath(d).map((s) => s.points);
}

/** Points rounded to 0.01 px, to compare with hand-computed ones. */
function rounded(subpaths: Point[][]): number[][][] {
  const r = (v: number) => Math.round(v * 100) / 100;
  return subpaths.map((s) => s.map((p) => [r(p.x), r(p.y)]));
}

function sampleChart(title = 'Loss <train> & "eval"') {
  const x = Array.from({ length: 10_000 }, (_, i) => i + 1);
  return lineChart({
    title,
    xLabel: "step",
    yLabel: "loss",
    series: [
      { name: "loss", x, y: x.map((i) => 4.8 / Math.sqrt(i) + 1) },
      { name: "a | b", x, y: x.map((i) => 5 / Math.sqrt(i) + 1) },
    ],
  });
}

Deno.test("lineChart() output is well-formed, escaped and white-backed", () => {
  const svg = sampleChart();
  assert.deepEqual(checkWellFormed(svg), ["svg"]);
  assert.ok(svg.includes("Loss &lt;train&gt; &amp; &quot;eval&quot;"));
  assert.ok(!svg.includes("<train>"));
  assert.ok(svg.includes(`<rect width="100%" height="100%" fill="#ffffff"/>`));
  // legend for two series
  assert.ok(svg.includes(">a | b</text>"));
  // downsampled: no path has more than ~1,000 points
  for (const d of pathsOf(svg)) {
    const points = decodePath(d).reduce((n, s) => n + s.points.length, 0);
    assert.ok(points <= 1000, `${points} points`);
  }
  // coordinates carry at most 2 decimals, the lines' 1
  assert.ok(!/\d\.\d{3}/.test(svg));
  for (const d of pathsOf(svg, /stroke-linejoin/)) {
    assert.ok(!/\d\.\d\d/.test(d), d.slice(0, 80));
  }
});

Deno.test("lineChart() is deterministic and depends on its input", () => {
  assert.equal(sampleChart(), sampleChart());
  assert.notEqual(sampleChart("A"), sampleChart("B"));
});

Deno.test("lineChart() places points where hand-computed", () => {
  // Fixed y range [0, 10]; x ticks 0..10. Layout: top 40, bottom 340 - 46 =
  // 294, right 720 - 18 = 702, left = 40 + width of "10" (2 x 11 x 0.6 =
  // 13.2) rounded up = 54. So (5, 6) maps to (54 + 648 / 2, 294 - 25.4 * 6).
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    yMin: 0,
    yMax: 10,
    series: [{ name: "s", x: [0, 5, 10], y: [0, 6, 10] }],
  });
  assert.deepEqual(rounded(line(svg)), [[[54, 294], [378, 141.6], [702, 40]]]);
  // Relative moves, the letter not repeated, "-" as the separator.
  assert.ok(svg.includes(`d="M54 294l324-152.4 324-101.6"`), svg);
  assert.ok(!svg.includes('stroke-width="3"'), "no legend for one series");
});

Deno.test("lineChart() leaves room for a wide last x label", () => {
  // "10,000" is 6 x 6.6 = 39.6 px wide; half of it, rounded up, plus 6 px:
  // right = 720 - 26 = 694.
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    yMin: 0,
    yMax: 10,
    series: [{ name: "s", x: [0, 10_000], y: [0, 10] }],
  });
  assert.deepEqual(rounded(line(svg)), [[[54, 294], [694, 40]]]);
});

Deno.test("lineChart() log axis puts a decade's midpoint halfway", () => {
  // y 1..100 -> ticks 1,2,5,10,20,50,100; widest label "100" -> left 60.
  // x 0..2 -> ticks 0, 0.5, ..., 2; x = 1 -> 60 + 642 / 2 = 381.
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    logY: true,
    series: [{ name: "s", x: [0, 1, 2], y: [1, 10, 100], markers: true }],
  });
  // The three points are collinear: the line keeps its ends, the dots show
  // the middle one.
  assert.deepEqual(rounded(line(svg)), [[[60, 294], [702, 40]]]);
  assert.ok(svg.includes(`<circle cx="381" cy="167"`), svg);
  for (const label of ["1", "2", "5", "10", "20", "50", "100"]) {
    assert.ok(svg.includes(`>${label}</text>`), label);
  }
});

Deno.test("lineChart() stepped mode draws H/V steps with integer ticks and breaks at NaN", () => {
  const svg = lineChart({
    title: "C",
    xLabel: "step",
    yLabel: "C",
    stepped: true,
    yMin: 0,
    series: [{ name: "C", x: [0, 10, 20, 30, 40], y: [1, 1, 2, NaN, 2] }],
  });
  // Labels "0".."3" (6.6 px) -> left 47; x 0..40 -> right 702; y 0..3 over
  // 294..40: 1 -> 209.33, 2 -> 124.67. The step at x = 10 changes nothing
  // and merges into one horizontal line.
  assert.deepEqual(rounded(line(svg)), [
    [[47, 209.3], [374.5, 209.3], [374.5, 124.7]],
    [[702, 124.7]],
  ]);
  assert.ok(svg.includes(`d="M47 209.3h327.5v-84.6m327.5 0"`), svg);
  // max 2 would sit on the frame: one integer of headroom -> ticks 0..3
  for (const label of ["0", "1", "2", "3"]) {
    assert.ok(svg.includes(`>${label}</text>`), label);
  }
  assert.ok(!svg.includes(">0.5</text>"));
});

Deno.test("lineChart() stepped mode keeps counts off the bottom frame too", () => {
  // P in [49, 51]: integer ticks 49..51, widened by one on both sides.
  const svg = lineChart({
    title: "P",
    xLabel: "step",
    yLabel: "P",
    stepped: true,
    series: [{ name: "P", x: [0, 10], y: [51, 49] }],
  });
  for (const label of ["48", "49", "50", "51", "52"]) {
    assert.ok(svg.includes(`>${label}</text>`), label);
  }
  assert.ok(!svg.includes(">47</text>") && !svg.includes(">53</text>"));
});

Deno.test("lineChart() wraps a long legend and moves the plot down", () => {
  const series = [1, 2, 3, 4].map((i) => ({
    name: `a rather long series name number ${i}`, // 34 chars: 244.8 px + 41
    x: [0, 1],
    y: [0, i],
  }));
  const svg = lineChart({ title: "t", xLabel: "x", yLabel: "y", series });
  // Plot width ~650 px fits two entries per row: two rows, top = 40 + 44.
  const frame = svg.match(/<rect x="[\d.]+" y="([\d.]+)"[^>]*fill="none"/)!;
  assert.equal(frame[1], "84");
  const rows = new Set(
    [...svg.matchAll(/<line x1="[\d.]+" y1="([\d.]+)"/g)].map((m) => m[1]),
  );
  assert.deepEqual([...rows], ["43", "63"]);
});

Deno.test("lineChart() without data says so", () => {
  const svg = lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [] });
  checkWellFormed(svg);
  assert.ok(svg.includes(">no data</text>"));
});

Deno.test("stackedCharts() stacks well-formed panels with aligned plot areas", () => {
  const svg = stackedCharts("C and P", [
    {
      title: "P",
      xLabel: "step",
      yLabel: "P",
      stepped: true,
      series: [{ name: "P", x: [0, 10], y: [51, 50] }],
    },
    {
      title: "C",
      xLabel: "step",
      yLabel: "C",
      stepped: true,
      height: 200,
      series: [{ name: "C", x: [0, 10], y: [1, 2] }],
    },
  ]);
  assert.deepEqual(checkWellFormed(svg), ["svg"]);
  assert.ok(svg.includes(`height="540"`));
  assert.ok(svg.includes(`translate(0 340)`));
  const frames = [...svg.matchAll(/<rect x="([\d.]+)"[^>]*fill="none"/g)];
  assert.equal(frames.length, 2);
  assert.equal(frames[0][1], frames[1][1]);
  // distinct clip ids per panel
  const ids = [...svg.matchAll(/clipPath id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, 2);
});

Deno.test("lineChart() draws interval bars, dots and a closed band where hand-computed", () => {
  // Layout as above: left 54, right 702, top 40, bottom 294; y in [0, 10]
  // maps to 294 - 25.4 y; x 0 -> 54, x 10 -> 702.
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    yMin: 0,
    yMax: 10,
    series: [{
      name: "s",
      x: [0, 10],
      y: [4, 6],
      errorBars: { low: [2, 4], high: [6, 8] },
      band: { low: [1, 2], high: [3, 4] },
      markers: true,
    }],
  });
  checkWellFormed(svg);
  const bars = svg.match(/<path class="bars" d="([^"]*)"/)![1];
  assert.ok(bars.startsWith("M54 243.2V141.6M702 192.4V90.8"), bars);
  // caps: 8 px wide at both ends of both bars
  assert.ok(bars.includes("M50 243.2H58"));
  assert.deepEqual(
    [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) =>
      `${m[1]},${m[2]}`
    ),
    ["54,192.4", "702,141.6"],
  );
  const band = decodePath(pathsOf(svg, /class="band"/)[0]);
  assert.equal(band.length, 1);
  assert.ok(band[0].closed);
  assert.deepEqual(rounded([band[0].points]), [
    [[54, 217.8], [702, 192.4], [702, 243.2], [54, 268.6]],
  ]);
  assert.deepEqual(rounded(line(svg)), [[[54, 192.4], [702, 141.6]]]);
  // A bar with a non-finite end is left out; no line when line is false.
  const partial = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    yMin: 0,
    yMax: 10,
    series: [{
      name: "s",
      x: [0, 10],
      y: [4, 6],
      errorBars: { low: [NaN, 4], high: [6, 8] },
      line: false,
    }],
  });
  const d = partial.match(/<path class="bars" d="([^"]*)"/)![1];
  assert.equal((d.match(/V/g) ?? []).length, 1);
  assert.equal(pathsOf(partial, /stroke-linejoin/).length, 0, "no line");
  assert.throws(
    () =>
      lineChart({
        title: "t",
        xLabel: "x",
        yLabel: "y",
        series: [{
          name: "s",
          x: [0, 1],
          y: [0, 1],
          band: { low: [0], high: [1, 2] },
        }],
      }),
    /band\.low has 1/,
  );
});

Deno.test("lineChart() log x axis and caller-placed x ticks", () => {
  const log = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    yMin: 0,
    yMax: 10,
    logX: true,
    series: [{ name: "s", x: [1e-8, 1e-7, 1e-6], y: [1, 3, 2] }],
  });
  // Decades 1e-8 .. 1e-6 fill the plot; the last label "1e-6" (26.4 px)
  // moves the right edge to 720 - (14 + 6) = 700: 1e-7 sits at 377.
  assert.deepEqual(rounded(line(log)), [
    [[54, 268.6], [377, 217.8], [700, 243.2]],
  ]);
  assert.ok(log.includes(">1e-7</text>") && log.includes(">2e-8</text>"));
  const cat = lineChart({
    title: "t",
    xLabel: "norm",
    yLabel: "y",
    yMin: 0,
    yMax: 10,
    xMin: -0.5,
    xMax: 1.5,
    xTicks: [{ value: 0, label: "layernorm" }, { value: 1, label: "rmsnorm" }],
    series: [{ name: "s", x: [0, 1], y: [1, 2], markers: true }],
  });
  assert.ok(
    cat.includes(">layernorm</text>") && cat.includes(">rmsnorm</text>"),
  );
  assert.ok(!cat.includes(">0.5</text>"));
});

Deno.test("lineChart() draws 10,000 noisy steps and 8 averages in < 40 KB, within 0.1 px", () => {
  // Fixed axes, so positions are hand-computed (as above): x in [0, 10,000]
  // over 54..694 ("10,000" on the right). The legend's entries take
  // 23 + 7.2 * letters + 18 px: "loss" 69.8, "seed i" 84.2 each; from 54,
  // "seed 6" would end at 629 + 66.2 > 694 and starts a second row, so the
  // plot starts at 40 + 2 * 22 = 84: y in [0, 10] over 294..84.
  const px = (x: number) => 54 + (640 * x) / 10_000;
  const py = (y: number) => 294 - 21 * y;
  let seed = 99;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const x = Array.from({ length: 10_000 }, (_, i) => i + 1);
  const noisy = () => x.map((i) => 3 + 4 / Math.sqrt(i) + (rand() - 0.5));
  const raw = noisy();
  raw[4320] = 9.5; // a spike at step 4321
  raw[7776] = 0.5; // a dip at step 7777
  const average = (y: number[]) =>
    y.map((_, i) => {
      const from = Math.max(0, i - 199);
      let sum = 0;
      for (let k = from; k <= i; k++) sum += y[k];
      return sum / (i - from + 1);
    });
  const averages = Array.from({ length: 8 }, () => average(noisy()));
  const svg = lineChart({
    title: "loss",
    xLabel: "step",
    yLabel: "loss",
    yMin: 0,
    yMax: 10,
    series: [
      { name: "loss", x, y: raw, color: "#0072B2", opacity: 0.35 },
      ...averages.map((y, i) => ({
        name: `seed ${i}`,
        x,
        y,
        color: `#a0000${i}`,
      })),
    ],
  });
  assert.deepEqual(checkWellFormed(svg), ["svg"]);
  assert.ok(svg.length <= 40_000, `${svg.length} bytes`);
  const check = (color: string, y: number[]) => {
    const [drawn] = line(svg, color);
    // Every point the min/max downsampling keeps (spikes and dips among
    // them) lies within 0.1 px of the line, plus 0.05 px of rounding on
    // each axis; every vertex is such a point, rounded.
    const d = downsampleMinMax(x, y, 1000);
    const exact = d.x.map((v, i) => ({ x: px(v), y: py(d.y[i]) }));
    for (const p of exact) {
      const off = distanceToPolyline(p, drawn);
      assert.ok(off <= 0.1 + 0.0708, `${color}: ${p.x},${p.y} ${off} px off`);
    }
    for (const v of drawn) {
      const near = Math.min(
        ...exact.map((p) => Math.max(Math.abs(p.x - v.x), Math.abs(p.y - v.y))),
      );
      assert.ok(near <= 0.05 + 1e-9, `${color}: vertex ${v.x},${v.y}`);
    }
    return drawn;
  };
  const rawLine = check("#0072B2", raw);
  for (const [sx, sy] of [[4321, 9.5], [7777, 0.5]]) {
    assert.ok(
      rawLine.some((v) =>
        Math.abs(v.x - px(sx)) <= 0.05 + 1e-9 &&
        Math.abs(v.y - py(sy)) <= 0.05 + 1e-9
      ),
      `the extreme at step ${sx} is a vertex`,
    );
  }
  averages.forEach((y, i) => check(`#a0000${i}`, y));
});
