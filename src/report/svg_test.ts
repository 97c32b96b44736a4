import assert from "node:assert/strict";
import {
  downsampleMinMax,
  escapeXml,
  formatTick,
  lineChart,
  logTicks,
  niceTicks,
  stackedCharts,
} from "./svg.ts";

Deno.test("niceTicks() picks 1/2/5 x 10^k steps covering the range (hand-derived)", () => {
  // raw step 10/5 = 2 -> 2
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  // raw 0.2 -> 0.2; values must print as 0.6, not 0.6000000000000001
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  // raw 94/5 = 18.8 -> 20; 3 rounds down to 0, 97 up to 100
  assert.deepEqual(niceTicks(3, 97, 5), [0, 20, 40, 60, 80, 100]);
  // raw 3.48/4 = 0.87 -> 1 (the mantissa 8.7 rounds up to the next decade)
  assert.deepEqual(niceTicks(1.37, 4.85, 4), [1, 2, 3, 4, 5]);
  // negative lower end: floor(-0.3/0.2) = -2 -> -0.4; no -0 in the output
  const neg = niceTicks(-0.3, 0.7, 5);
  assert.deepEqual(neg, [-0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8]);
  assert.ok(!Object.is(neg[2], -0));
  // raw 0.0074/4 = 0.00185 -> 0.002
  assert.deepEqual(niceTicks(0.0013, 0.0087, 4), [
    0,
    0.002,
    0.004,
    0.006,
    0.008,
    0.01,
  ]);
  assert.deepEqual(niceTicks(0, 10_000, 5), [0, 2000, 4000, 6000, 8000, 10000]);
  // 0.6 / 0.2 = 2.9999999999999996 in floating point: still a tick, not 0.4
  assert.deepEqual(niceTicks(0.6, 1.2, 3), [0.6, 0.8, 1, 1.2]);
  // zero-width range widened by 10%: [4.5, 5.5], step 0.2
  assert.deepEqual(niceTicks(5, 5, 5), [4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]);
  assert.deepEqual(niceTicks(0, 0, 2), [-1, 0, 1]);
});

Deno.test("niceTicks() with integer steps never goes below 1", () => {
  assert.deepEqual(niceTicks(1, 2, 5, { integer: true }), [1, 2]);
  assert.deepEqual(niceTicks(0, 51, 5, { integer: true }), [0, 20, 40, 60]);
  assert.deepEqual(niceTicks(1, 1, 5, { integer: true }), [0, 1, 2]);
});

Deno.test("niceTicks() rejects bad input", () => {
  assert.throws(() => niceTicks(1, 0, 5), RangeError);
  assert.throws(() => niceTicks(NaN, 1, 5), RangeError);
  assert.throws(() => niceTicks(0, Infinity, 5), RangeError);
  assert.throws(() => niceTicks(0, 1, 0), RangeError);
});

Deno.test("logTicks() uses decades, adding 2 and 5 over short ranges", () => {
  assert.deepEqual(logTicks(0.002, 30), [0.001, 0.01, 0.1, 1, 10, 100]);
  assert.deepEqual(logTicks(1.5, 4.8), [1, 2, 5]);
  assert.deepEqual(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
  assert.deepEqual(logTicks(0.03, 0.07), [0.02, 0.05, 0.1]);
  assert.throws(() => logTicks(0, 1), RangeError);
});

Deno.test("formatTick() uses the step's decimals and groups thousands", () => {
  assert.equal(formatTick(10000, 2000), "10,000");
  assert.equal(formatTick(1234567, 1), "1,234,567");
  assert.equal(formatTick(0.6, 0.2), "0.6");
  assert.equal(formatTick(1, 0.2), "1.0");
  assert.equal(formatTick(0.75, 0.25), "0.75");
  assert.equal(formatTick(-0.4, 0.2), "-0.4");
  assert.equal(formatTick(0, 0.2), "0");
  assert.equal(formatTick(0.000004, 0.000002), "4e-6");
  assert.equal(formatTick(20_000_000, 10_000_000), "2e7");
});

Deno.test("escapeXml() escapes markup characters and drops XML-illegal controls", () => {
  assert.equal(
    escapeXml(`<a href="x">&'`),
    "&lt;a href=&quot;x&quot;&gt;&amp;&#39;",
  );
  assert.equal(escapeXml("a\u0000b\tc\nd"), "a\ufffdb\tc\nd");
  assert.equal(escapeXml("&amp;"), "&amp;amp;");
});

Deno.test("downsampleMinMax() keeps spikes, dips, ends and order", () => {
  const n = 10_000;
  const x = Array.from({ length: n }, (_, i) => i);
  const y = x.map((i) => 2 + Math.sin(i / 50));
  y[4321] = 100;
  y[7777] = -50;
  const d = downsampleMinMax(x, y, 1000);
  assert.ok(d.x.length <= 1000, `${d.x.length} points`);
  assert.ok(d.x.length >= 900, `${d.x.length} points`);
  assert.equal(d.x.length, d.y.length);
  assert.equal(d.x[0], 0);
  assert.equal(d.x[d.x.length - 1], n - 1);
  assert.equal(d.y[d.x.indexOf(4321)], 100);
  assert.equal(d.y[d.x.indexOf(7777)], -50);
  for (let i = 1; i < d.x.length; i++) assert.ok(d.x[i] > d.x[i - 1]);
  // every kept point is a real point of the input
  for (let i = 0; i < d.x.length; i++) assert.equal(d.y[i], y[d.x[i]]);
});

Deno.test("downsampleMinMax() keeps gaps and leaves short series alone", () => {
  const x = Array.from({ length: 100 }, (_, i) => i);
  const y = x.map((i) => (i === 50 ? NaN : i));
  const d = downsampleMinMax(x, y, 10);
  assert.ok(d.x.includes(50));
  assert.ok(Number.isNaN(d.y[d.x.indexOf(50)]));
  const short = downsampleMinMax([1, 2, 3], [4, 5, 6], 10);
  assert.deepEqual(short, { x: [1, 2, 3], y: [4, 5, 6] });
  assert.throws(() => downsampleMinMax([1], [1, 2], 10), RangeError);
});

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
