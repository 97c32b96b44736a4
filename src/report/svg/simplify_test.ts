import assert from "node:assert/strict";
import { simplifyPolyline } from "./simplify.ts";
import { distanceToPolyline } from "./svg_reading.ts";

function lcg(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

/** Asserts that every point lies within `tolerance` of the kept polyline. */
function assertWithin(
  xs: number[],
  ys: number[],
  kept: number[],
  tolerance: number,
): void {
  const line = kept.map((i) => ({ x: xs[i], y: ys[i] }));
  xs.forEach((x, i) => {
    const d = distanceToPolyline({ x, y: ys[i] }, line);
    assert.ok(d <= tolerance + 1e-12, `point ${i} is ${d} px off`);
  });
}

Deno.test("simplifyPolyline() drops collinear points, keeps ends and corners", () => {
  const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  assert.deepEqual(simplifyPolyline(xs, xs.map((x) => 2 * x + 1), 0.1), [0, 8]);
  // A V shape: the corner stays; 0.05 px of wiggle at x = 2 goes.
  const v = [8, 6, 4.05, 2, 0, 2, 4, 6, 8];
  assert.deepEqual(simplifyPolyline(xs, v, 0.1), [0, 4, 8]);
  assert.deepEqual(simplifyPolyline([1], [2], 0.1), [0]);
  assert.deepEqual(simplifyPolyline([], [], 0.1), []);
  assert.throws(() => simplifyPolyline([1, 2], [1], 0.1), RangeError);
});

Deno.test("simplifyPolyline() keeps a spike that goes back on itself", () => {
  // Up and straight back down at one x (min/max of a bucket): the top is
  // more than the tolerance from the segment between its neighbours.
  const xs = [0, 1, 1, 1, 2];
  const ys = [0, 0, 30, 0, 0];
  const kept = simplifyPolyline(xs, ys, 0.1);
  assert.ok(kept.includes(2), `${kept}`);
  assertWithin(xs, ys, kept, 0.1);
});

Deno.test("simplifyPolyline() keeps every point within the tolerance, and few of a smooth curve", () => {
  const rand = lcg(7);
  const n = 1000;
  // 1,000 points over 650 px, as a chart draws a long series.
  const xs = Array.from({ length: n }, (_, i) => 50 + (650 * i) / (n - 1));
  const smooth = xs.map((x) => 200 - 120 * Math.exp(-(x - 50) / 60));
  const noisy = smooth.map((y) => y + (rand() - 0.5) * 30);
  for (const tolerance of [0.05, 0.1, 0.5]) {
    for (const ys of [smooth, noisy]) {
      assertWithin(xs, ys, simplifyPolyline(xs, ys, tolerance), tolerance);
    }
  }
  // The sag of a chord of length L on a curve of curvature k is about
  // k L^2 / 8. Here k = y'' / (1 + y'^2)^1.5 <= 0.0064 per px (at
  // e^(-u) = 1 / sqrt(8)), so 11 px chords stay within 0.1 px, and the
  // curve (< 650 + 120 px long) needs about 70 of them; RDP, which is not
  // optimal, is allowed twice that.
  const kept = simplifyPolyline(xs, smooth, 0.1).length;
  assert.ok(kept < 150, `${kept} points kept`);
  // Noise of +-15 px leaves almost nothing out.
  assert.ok(simplifyPolyline(xs, noisy, 0.1).length > 900);
  // The noisy series' extremes stay exactly.
  const top = noisy.indexOf(Math.min(...noisy));
  const bottom = noisy.indexOf(Math.max(...noisy));
  const keptNoisy = simplifyPolyline(xs, noisy, 0.1);
  assert.ok(keptNoisy.includes(top) && keptNoisy.includes(bottom));
});
