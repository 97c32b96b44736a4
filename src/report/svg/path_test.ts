import assert from "node:assert/strict";
import { formatTenths, PathData } from "./path.ts";
import { decodePath, distanceToPolyline } from "./svg_reading.ts";

Deno.test("formatTenths() writes the shortest SVG number", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [5, ".5"],
    [-5, "-.5"],
    [10, "1"],
    [-10, "-1"],
    [13, "1.3"],
    [-13, "-1.3"],
    [1230, "123"],
    [12345, "1234.5"],
  ];
  for (const [t, text] of cases) assert.equal(formatTenths(t), text, `${t}`);
});

Deno.test("PathData writes relative moves with the fewest characters", () => {
  const d = new PathData();
  d.moveTo(47.06, 117.66); // tenths 471, 1177
  d.lineTo(47.13, 122.99); // 471, 1230: straight down -> v5.3
  d.lineTo(48.36, 196.46); // 484, 1965: l1.3 73.5
  d.lineTo(48.42, 200.34); // 484, 2003: v3.8
  d.lineTo(49.66, 200.3); // 497, 2003: h1.3
  d.lineTo(50, 200.26); // 500, 2003: h.3 merges -> h1.6
  d.lineTo(50.5, 199.3); // 505, 1993: l.5-1
  d.lineTo(51, 198.8); // l.5-.5 : letter left out, "-1" then ".5"
  d.lineTo(51.5, 199.3); // l.5.5 : ".5" after "-.5" needs no space
  d.lineTo(52, 199.3); // h.5
  d.lineTo(52, 199.3); // nowhere: nothing
  d.horizontalTo(51); // back left: not merged with h.5
  d.verticalTo(199.3); // nowhere: nothing
  d.close();
  d.moveTo(60, 100); // relative to the subpath's start after z
  assert.equal(
    d.toString(),
    "M47.1 117.7v5.3l1.3 73.5v3.8h1.6l.5-1 .5-.5.5.5h.5-1zm12.9-17.7",
  );
});

Deno.test("PathData never accumulates rounding: decoded vertices within 0.05 px", () => {
  // A random walk with awkward fractions; every vertex of the decoded path
  // must sit within 0.05 px (per axis) of an input point, in order, and
  // every input point within 0.0708 px of the decoded line.
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const points: { x: number; y: number }[] = [];
  let x = 47.0123, y = 200.4567;
  for (let i = 0; i < 5000; i++) {
    x += rand() * 0.9; // often less than a tenth: moves merge or vanish
    y += (rand() - 0.5) * (i % 7 === 0 ? 40 : 0.3);
    points.push({ x, y });
  }
  const d = new PathData();
  points.forEach((p, i) => i === 0 ? d.moveTo(p.x, p.y) : d.lineTo(p.x, p.y));
  const text = d.toString();
  assert.ok(!/\d\.\d\d/.test(text), "at most one decimal");
  const [sub, ...rest] = decodePath(text);
  assert.equal(rest.length, 0);
  let j = 0;
  for (const v of sub.points) {
    while (
      j < points.length &&
      !(Math.abs(points[j].x - v.x) <= 0.05 + 1e-9 &&
        Math.abs(points[j].y - v.y) <= 0.05 + 1e-9)
    ) j++;
    assert.ok(j < points.length, `vertex ${v.x},${v.y} matches no input`);
  }
  for (const p of points) {
    const dist = distanceToPolyline(p, sub.points);
    assert.ok(dist <= 0.0708, `${p.x},${p.y} is ${dist} px off`);
  }
  // Relative, tenths: far shorter than absolute with two decimals.
  const absolute = points.map((p, i) =>
    `${i ? "L" : "M"}${Math.round(p.x * 100) / 100} ${
      Math.round(p.y * 100) / 100
    }`
  ).join("");
  assert.ok(text.length < absolute.length / 2, `${text.length} chars`);
});

Deno.test("PathData merges steps in one direction only", () => {
  const d = new PathData();
  d.moveTo(0, 0);
  d.horizontalTo(1);
  d.horizontalTo(2);
  d.verticalTo(-1);
  d.verticalTo(-3);
  d.verticalTo(-2); // back down: a move of its own
  assert.equal(d.toString(), "M0 0h2v-3 1");
  assert.deepEqual(decodePath("M0 0h2v-3 1")[0].points, [
    { x: 0, y: 0 },
    { x: 2, y: 0 },
    { x: 2, y: -3 },
    { x: 2, y: -2 },
  ]);
  assert.throws(() => new PathData().moveTo(NaN, 0), RangeError);
});
