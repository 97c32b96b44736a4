import assert from "node:assert/strict";
import { downsampleMinMax } from "./downsample.ts";

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
