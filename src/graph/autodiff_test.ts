// Every differentiable primitive's VJP is checked against central finite
// differences of the float64 reference interpreter: the loss is
// sum(op(inputs) * r) for a fixed random r, so each input's analytic gradient
// must match (L(x + h e_i) - L(x - h e_i)) / 2h element by element.

import assert from "node:assert/strict";
import { Builder } from "./builder.ts";
import { gradients } from "./autodiff.ts";
import { interpret } from "./reference.ts";
import { floatTensor, type HostTensor, intTensor } from "./tensor.ts";
import { OPS } from "./ops/mod.ts";
import { type Node, sizeOf, type Value } from "./ir.ts";

/** Deterministic pseudo-random numbers in [lo, hi) for test inputs. */
function uniform(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(lo + (hi - lo) * (s / 2 ** 32));
  }
  return out;
}

interface Case {
  name: string;
  /** Float inputs: name -> [shape, lo, hi]. */
  inputs: Record<string, [number[], number, number]>;
  ints?: Record<string, [number[], number[]]>;
  build(b: Builder, x: Record<string, Value>): Value;
}

const covered = new Set<string>();

function check(c: Case): void {
  const b = new Builder();
  const vals: Record<string, Value> = {};
  const feeds: Record<string, HostTensor> = {};
  let seed = 1;
  for (const [name, [shape, lo, hi]] of Object.entries(c.inputs)) {
    vals[name] = b.input(name, shape);
    feeds[name] = floatTensor(shape, uniform(sizeOf(shape), seed++, lo, hi));
  }
  for (const [name, [shape, data]] of Object.entries(c.ints ?? {})) {
    vals[name] = b.input(name, shape, "int32");
    feeds[name] = intTensor(shape, data);
  }
  const y = c.build(b, vals);
  for (const n of b.nodes) covered.add(n.op);
  const r = b.input("r", y.shape);
  feeds.r = floatTensor(y.shape, uniform(sizeOf(y.shape), 99));
  const loss = b.reduceSum(
    b.reshape(b.mul(y, r), [sizeOf(y.shape)]),
    [0],
    false,
  );
  const wrt = Object.keys(c.inputs).map((k) => vals[k]);
  const grads = gradients(b, loss, wrt);
  b.output("loss", loss);
  grads.forEach((g, i) => b.output(`d_${i}`, g));
  for (const n of b.nodes) covered.add(n.op);
  const analytic = interpret(b, feeds);

  const h = 1e-6;
  Object.keys(c.inputs).forEach((name, i) => {
    const x = feeds[name].data as Float64Array;
    const g = analytic[`d_${i}`].data;
    let worst = 0;
    for (let k = 0; k < x.length; k++) {
      const saved = x[k];
      x[k] = saved + h;
      const up = interpret(b, feeds).loss.data[0];
      x[k] = saved - h;
      const down = interpret(b, feeds).loss.data[0];
      x[k] = saved;
      const fd = (up - down) / (2 * h);
      const err = Math.abs(fd - g[k]) / Math.max(1, Math.abs(fd));
      worst = Math.max(worst, err);
    }
    assert.ok(
      worst < 1e-6,
      `${c.name}: d/d${name} differs from finite differences by ${worst}`,
    );
  });
}

const cases: Case[] = [
  { name: "neg", inputs: { x: [[2, 3], -1, 1] }, build: (b, v) => b.neg(v.x) },
  {
    name: "sqrt",
    inputs: { x: [[2, 3], 0.5, 2] },
    build: (b, v) => b.sqrt(v.x),
  },
  { name: "exp", inputs: { x: [[2, 3], -1, 1] }, build: (b, v) => b.exp(v.x) },
  {
    name: "log",
    inputs: { x: [[2, 3], 0.5, 2] },
    build: (b, v) => b.log(v.x),
  },
  {
    name: "tanh",
    inputs: { x: [[2, 3], -2, 2] },
    build: (b, v) => b.tanh(v.x),
  },
  {
    name: "add (broadcast)",
    inputs: { a: [[2, 3, 4], -1, 1], b: [[3, 1], -1, 1] },
    build: (b, v) => b.add(v.a, v.b),
  },
  {
    name: "sub (broadcast)",
    inputs: { a: [[4], -1, 1], b: [[2, 3, 4], -1, 1] },
    build: (b, v) => b.sub(v.a, v.b),
  },
  {
    name: "mul (broadcast)",
    inputs: { a: [[2, 1, 4], -1, 1], b: [[3, 1], -1, 1] },
    build: (b, v) => b.mul(v.a, v.b),
  },
  {
    name: "div (broadcast)",
    inputs: { a: [[2, 3], -1, 1], b: [[3], 0.5, 2] },
    build: (b, v) => b.div(v.a, v.b),
  },
  ...[[false, false], [true, false], [false, true], [true, true]].map((
    [ta, tb],
  ): Case => ({
    name: `matmul 2-D transA=${ta} transB=${tb}`,
    inputs: {
      a: [ta ? [4, 3] : [3, 4], -1, 1],
      b: [tb ? [5, 4] : [4, 5], -1, 1],
    },
    build: (b, v) => b.matmul(v.a, v.b, { transA: ta, transB: tb }),
  })),
  ...[[false, false], [true, false], [false, true], [true, true]].map((
    [ta, tb],
  ): Case => ({
    name: `matmul batched+broadcast transA=${ta} transB=${tb}`,
    inputs: {
      a: [ta ? [2, 2, 4, 3] : [2, 2, 3, 4], -1, 1],
      b: [tb ? [2, 1, 5, 4] : [2, 1, 4, 5], -1, 1],
    },
    build: (b, v) => b.matmul(v.a, v.b, { transA: ta, transB: tb }),
  })),
  {
    name: "reduceSum keepdims",
    inputs: { x: [[2, 3, 4], -1, 1] },
    build: (b, v) => b.reduceSum(v.x, [0, 2], true),
  },
  {
    name: "reduceSum dropdims",
    inputs: { x: [[2, 3, 4], -1, 1] },
    build: (b, v) => b.reduceSum(v.x, [1], false),
  },
  {
    name: "reshape",
    inputs: { x: [[2, 6], -1, 1] },
    build: (b, v) => b.mul(b.reshape(v.x, [3, 4]), b.reshape(v.x, [3, 4])),
  },
  {
    name: "transpose",
    inputs: { x: [[2, 3, 4], -1, 1] },
    build: (b, v) => b.transpose(v.x, [2, 0, 1]),
  },
  {
    name: "expand",
    inputs: { x: [[3, 1], -1, 1] },
    build: (b, v) => b.expand(v.x, [2, 3, 4]),
  },
  {
    name: "softmax",
    inputs: { x: [[2, 5], -2, 2] },
    build: (b, v) => b.softmax(v.x),
  },
  {
    name: "gather (repeated and missing rows)",
    inputs: { w: [[5, 3], -1, 1] },
    ints: { ids: [[2, 3], [4, 0, 4, 1, 4, 0]] },
    build: (b, v) => b.gather(v.w, v.ids),
  },
  {
    name: "slice",
    inputs: { x: [[2, 6, 3], -1, 1] },
    build: (b, v) => b.slice(v.x, 1, 2, 5),
  },
  {
    name: "pad",
    inputs: { x: [[2, 3], -1, 1] },
    build: (b, v) => b.pad(v.x, 0, 1, 2),
  },
  {
    name: "concat",
    inputs: { a: [[2, 3], -1, 1], c: [[2, 1], -1, 1] },
    build: (b, v) => b.concat([v.a, v.c, v.a], 1),
  },
  {
    name: "where",
    inputs: { a: [[2, 3], -1, 1], c: [[3], -1, 1] },
    build: (b, v) => {
      const mask = b.constant(
        new Uint8Array([1, 0, 1, 0, 0, 1]),
        [2, 3],
        "bool",
      );
      return b.where(mask, v.a, v.c);
    },
  },
  {
    // ReduceMax is detached: the stabilised log-sum-exp must still have the
    // exact gradient softmax(x).
    name: "log-sum-exp through detached reduceMax",
    inputs: { x: [[3, 4], -3, 3] },
    build: (b, v) => {
      const m = b.reduceMax(v.x, [1], true);
      const s = b.reduceSum(b.exp(b.sub(v.x, m)), [1], true);
      return b.add(m, b.log(s));
    },
  },
];

for (const c of cases) {
  Deno.test(`VJP matches finite differences: ${c.name}`, () => check(c));
}

Deno.test("every differentiable op is covered by a finite-difference case", () => {
  for (const c of cases) check(c);
  // Ops with no VJP by design (used only after differentiation).
  const noGradient = new Set(["Abs", "Min", "Max", "Less"]);
  const missing = Object.keys(OPS).filter((op) =>
    !covered.has(op) && !noGradient.has(op)
  );
  assert.deepEqual(missing, []);
});

Deno.test("a parameter the loss ignores gets a zero gradient", () => {
  const b = new Builder();
  const w = b.input("w", [2]);
  const u = b.input("u", [3]);
  const loss = b.reduceSum(b.mul(w, w), [0], false);
  const [, du] = gradients(b, loss, [w, u]);
  b.output("du", du);
  const out = interpret(b, {
    w: floatTensor([2], [1, 2]),
    u: floatTensor([3], [1, 2, 3]),
  });
  assert.deepEqual(Array.from(out.du.data), [0, 0, 0]);
});

Deno.test("differentiating through an op without a VJP is an error", () => {
  const b = new Builder();
  const w = b.input("w", [2]);
  const loss = b.reduceSum(b.abs(w), [0], false);
  assert.throws(() => gradients(b, loss, [w]), /Abs has no gradient/);
});

Deno.test("a cast cotangent is cast per contribution and after every sum", () => {
  // y = 3x + 5x; with the cast g -> 2g the cotangent of x is
  // cast(cast(5) + cast(3)) = 2 * (2 * 5 + 2 * 3) = 32 (without it: 8).
  const b = new Builder();
  const x = b.input("x", [1]);
  b.castCotangent(x, (g) => b.mul(g, b.scalar(2)));
  const y = b.add(b.mul(x, b.scalar(3)), b.mul(x, b.scalar(5)));
  const [dx] = gradients(b, b.reduceSum(y, [0], false), [x]);
  b.output("dx", dx);
  const out = interpret(b, { x: floatTensor([1], [0.25]) });
  assert.deepEqual(Array.from(out.dx.data), [32]);
});

Deno.test("slice gradients meeting in a sum are joined into one padded Concat", () => {
  // loss = sum(x[:, 0:2]^2) + sum(x[:, 3:5]^2): x's cotangent is the sum of
  // two paddings, which autodiff joins (join_padded.ts) instead of adding.
  const b = new Builder();
  const x = b.input("x", [2, 6]);
  const part = (start: number, end: number) => {
    const s = b.slice(x, 1, start, end);
    return b.reduceSum(b.mul(s, s), [0, 1], false);
  };
  const loss = b.add(part(0, 2), part(3, 5));
  const [dx] = gradients(b, loss, [x]);
  const node = (v: Value) => (v.source as { node: Node }).node;
  assert.equal(node(dx).op, "Pad");
  assert.equal(node(node(dx).inputs[0]).op, "Concat");
  b.output("dx", dx);
  const xs = Array.from({ length: 12 }, (_, i) => i - 5);
  const out = interpret(b, { x: floatTensor([2, 6], xs) });
  const inWindow = (i: number) => i % 6 < 2 || (i % 6 >= 3 && i % 6 < 5);
  assert.deepEqual(
    Array.from(out.dx.data),
    xs.map((v, i) => inWindow(i) ? 2 * v : 0),
  );
});
