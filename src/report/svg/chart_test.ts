import assert from "node:assert/strict";
import { lineChart, stackedCharts } from "./chart.ts";

/** Checks that every tag is closed in order; returns the root tag names. */
function checkBalanced(svg: string): string[] {
  const stack: string[] = [];
  const roots: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:"[^"]*"|[^>"])*?)(\/?)>/g;
  let last = 0;
  for (const m of svg.matchAll(tag)) {
    const between = svg.slice(last, m.index);
    assert.ok(!between.includes("<"), `stray '<' near ${m.index}`);
    assert.ok(
      !/&(?!amp;|lt;|gt;|quot;|#39;)/.test(between),
      `unescaped '&' in ${between}`,
    );
    last = m.index! + m[0].length;
    const [, close, name, , self] = m;
    if (close) {
      assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    } else if (!self) {
      if (stack.length === 0) roots.push(name);
      stack.push(name);
    } else if (stack.length === 0) roots.push(name);
  }
  assert.deepEqual(stack, [], "unclosed tags");
  assert.equal(svg.slice(last).trim(), "");
  return roots;
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
  assert.deepEqual(checkBalanced(svg), ["svg"]);
  assert.ok(svg.includes("Loss &lt;train&gt; &amp; &quot;eval&quot;"));
  assert.ok(!svg.includes("<train>"));
  assert.ok(svg.includes(`<rect width="100%" height="100%" fill="#ffffff"/>`));
  // legend for two series
  assert.ok(svg.includes(">a | b</text>"));
  // downsampled: no path has more than ~1,000 points
  for (const m of svg.matchAll(/ d="([^"]*)"/g)) {
    const points = (m[1].match(/[ML]/g) ?? []).length;
    assert.ok(points <= 1000, `${points} points`);
  }
  // coordinates carry at most 2 decimals
  assert.ok(!/\d\.\d{3}/.test(svg));
});

Deno.test("lineChart() is deterministic and depends on its input", () => {
  assert.equal(sampleChart(), sampleChart());
  assert.notEqual(sampleChart("A"), sampleChart("B"));
});

Deno.test("lineChart() places points where hand-computed", () => {
  // Fixed y range [0, 10]; x ticks 0..10. Layout: top 40, bottom 340 - 46 =
  // 294, right 720 - 18 = 702, left = 40 + width of "10" (2 x 11 x 0.6 =
  // 13.2) rounded up = 54. So (5, 5) maps to (54 + 648 / 2, 294 - 254 / 2).
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    yMin: 0,
    yMax: 10,
    series: [{ name: "s", x: [0, 5, 10], y: [0, 5, 10] }],
  });
  assert.ok(svg.includes(`d="M54 294L378 167L702 40"`), svg);
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
  assert.ok(svg.includes(`d="M54 294L694 40"`), svg);
});

Deno.test("lineChart() log axis puts a decade's midpoint halfway", () => {
  // y 1..100 -> ticks 1,2,5,10,20,50,100; widest label "100" -> left 60.
  // x 0..2 -> ticks 0, 0.5, ..., 2; x = 1 -> 60 + 642 / 2 = 381.
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    logY: true,
    series: [{ name: "s", x: [0, 1, 2], y: [1, 10, 100] }],
  });
  assert.ok(svg.includes(`d="M60 294L381 167L702 40"`), svg);
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
  const d = svg.match(/ d="(M[^"]*)" stroke="#0072B2"/)![1];
  assert.match(d, /^M[\d.]+ [\d.]+H[\d.]+V[\d.]+H[\d.]+V[\d.]+M[\d.]+ [\d.]+$/);
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
  checkBalanced(svg);
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
  assert.deepEqual(checkBalanced(svg), ["svg"]);
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
  checkBalanced(svg);
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
  assert.ok(
    svg.includes(
      `<path class="band" d="M54 217.8L702 192.4L702 243.2L54 268.6Z"`,
    ),
  );
  assert.ok(svg.includes(`d="M54 192.4L702 141.6"`), "the line itself");
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
  assert.ok(!partial.includes(`d="M54 192.4L702 141.6"`));
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
    series: [{ name: "s", x: [1e-8, 1e-7, 1e-6], y: [1, 2, 3] }],
  });
  // Decades 1e-8 .. 1e-6 fill the plot; the last label "1e-6" (26.4 px)
  // moves the right edge to 720 - (14 + 6) = 700: 1e-7 sits at 377.
  assert.ok(log.includes(`d="M54 268.6L377 243.2L700 217.8"`));
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
