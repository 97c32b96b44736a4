// Stochastic rounding in the graph (float32 arithmetic) against a bit-level
// reference written here from the definition, independently of the graph's
// derivation: with 16 random bits r, x rounds away from zero iff r is below
// the low 16 bits of x's float32 pattern, else the low bits are cleared
// (torchao's _fp32_to_bf16_sr does the same on int32 views). Checked bit for
// bit on every engine over every binade, subnormals, zeros, both signs and
// the uniforms on either side of each threshold; then the probabilities over
// many seeded uniforms.

import assert from "node:assert/strict";
import { Builder } from "../graph/builder.ts";
import { toOnnx } from "../graph/onnx.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import type { Engine } from "../runtime/engine.ts";
import { wasmEngine } from "../runtime/wasm.ts";
import { probeAdapter } from "../runtime/webgpu_probe.ts";
import { Pcg32 } from "../data/rng.ts";
import {
  roundingUniforms,
  stochasticRoundToBf16InGraph,
} from "./stochastic_rounding.ts";

/** Below this the graph's ufp trick overflows (documented limit). */
const LIMIT = 2 ** 104;

const view = new DataView(new ArrayBuffer(4));

/** The reference: bit manipulation on x's float32 pattern; -0 -> +0. */
function reference(x: number, r: number): number {
  view.setFloat32(0, x);
  const bits = view.getUint32(0);
  let out = (bits & 0xffff0000) >>> 0;
  if (r < (bits & 0xffff)) out += 0x10000;
  view.setUint32(0, out >>> 0);
  const y = view.getFloat32(0);
  return y === 0 ? 0 : y;
}

function bitsOf(x: number): number {
  view.setFloat32(0, x);
  return view.getUint32(0);
}

function fromBits(bits: number): number {
  view.setUint32(0, bits >>> 0);
  return view.getFloat32(0);
}

/** Values and 16-bit draws covering the edges of the rule. */
function cases(): { xs: Float32Array; rs: Uint16Array } {
  const xs: number[] = [], rs: number[] = [];
  const rng = new Pcg32(7, 99);
  const add = (x: number, r: number) => {
    if (Math.abs(x) < LIMIT) {
      xs.push(x);
      rs.push(r);
    }
  };
  const around = (x: number) => {
    const frac = bitsOf(x) & 0xffff;
    for (const r of [0, 0xffff, frac - 1, frac, frac + 1]) {
      if (r >= 0 && r <= 0xffff) add(x, r);
    }
    add(x, rng.nextUint32() >>> 16);
  };
  for (let e = 0; e < 255; e++) {
    // powers of two (on the grid), a low-bits pattern of every size, the
    // largest value of the binade (rounds up into the next one), both signs
    for (
      const m of [0, 1, 0x8000, 0xffff, 0x10000, 0x12345, 0x7fffff, 0x7f0001]
    ) {
      for (const s of [0, 0x80000000]) around(fromBits(s | (e << 23) | m));
    }
  }
  for (let m = 1; m < 0x800000; m += 0x3fff) { // subnormals
    around(fromBits(m));
    around(fromBits(0x80000000 | m));
  }
  around(0);
  around(-0);
  while (xs.length < 1 << 20) {
    const x = fromBits(rng.nextUint32());
    if (Number.isFinite(x)) add(x, rng.nextUint32() >>> 16);
  }
  return { xs: Float32Array.from(xs), rs: Uint16Array.from(rs) };
}

const engines: Engine[] = [cpuEngine, wasmEngine];
if (!Deno.env.get("HORIZON_SKIP_WEBGPU") && await probeAdapter()) {
  engines.push((await import("../runtime/webgpu.ts")).webgpuEngine);
}

async function roundInGraph(
  engine: Engine,
  xs: Float32Array,
  us: Float32Array,
): Promise<Float32Array> {
  const b = new Builder();
  const x = b.input("x", [xs.length]), u = b.input("u", [xs.length]);
  b.output("y", stochasticRoundToBf16InGraph(b, x, u));
  const session = await engine.load(toOnnx(b, { name: "sr" }));
  try {
    const out = await session.run({
      x: session.tensor(xs, [xs.length]),
      u: session.tensor(us, [us.length]),
    });
    return Float32Array.from(await session.read(out.y));
  } finally {
    await session.release();
  }
}

for (const engine of engines) {
  Deno.test(`${engine.name}: graph stochastic rounding equals the bit-level rule`, async () => {
    const { xs, rs } = cases();
    const us = Float32Array.from(rs, (r) => r / 65536);
    const got = await roundInGraph(engine, xs, us);
    let bad = 0, first = -1;
    for (let i = 0; i < xs.length; i++) {
      if (bitsOf(got[i]) !== bitsOf(reference(xs[i], rs[i]))) {
        bad++;
        if (first < 0) first = i;
      }
    }
    assert.equal(
      bad,
      0,
      `${bad}/${xs.length} differ; first: x=${xs[first]} (bits ${
        bitsOf(xs[first]).toString(16)
      }) r=${rs[first]} got ${got[first]} want ${
        reference(xs[first], rs[first])
      }`,
    );
  });
}

Deno.test("stochastic rounding keeps values on the bf16 grid exactly, for every uniform", async () => {
  const grid: number[] = [0];
  for (let e = 0; e < 231; e++) {
    for (const m of [0, 0x10000, 0x550000, 0x7f0000]) {
      grid.push(fromBits((e << 23) | m), fromBits(0x80000000 | (e << 23) | m));
    }
  }
  const rs = [0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff];
  const xs = Float32Array.from(rs.flatMap(() => grid));
  const us = Float32Array.from(
    rs.flatMap((r) => grid.map(() => r / 65536)),
  );
  const got = await roundInGraph(cpuEngine, xs, us);
  for (let i = 0; i < xs.length; i++) {
    // -0 is on the grid too, and comes out as +0 like every zero.
    const want = xs[i] === 0 ? 0 : xs[i];
    assert.equal(bitsOf(got[i]), bitsOf(want), `x=${xs[i]} u=${us[i]}`);
  }
});

Deno.test("stochastic rounding picks the upper neighbour with probability proportional to the distance", async () => {
  // x, its bf16 neighbours toward and away from zero, and the probability
  // of the one away from zero: distance / spacing, by hand.
  const probes: [number, number, number, number][] = [
    [1 + 2 ** -9, 1, 1 + 2 ** -7, 0.25],
    [-(1 + 3 * 2 ** -9), -1, -(1 + 2 ** -7), 0.75],
    // 0.1 is 0x3dcccccd: neighbours 0x3dcc and 0x3dcd, fraction 0xcccd/2^16
    [Math.fround(0.1), 0.099609375, 0.10009765625, 0xcccd / 65536],
    [2 - 2 ** -10, 2 - 2 ** -7, 2, 0.875], // up is the next binade
    [2 ** -20 * (1 + 5 * 2 ** -10), 2 ** -20, 2 ** -20 + 2 ** -27, 0.625],
    // bf16 subnormals are 2^-133 apart
    [2 ** -130 + 3 * 2 ** -136, 2 ** -130, 2 ** -130 + 2 ** -133, 0.375],
  ];
  const n = 200_000;
  const rng = new Pcg32(2024, 4);
  for (const [x, lo, hi, p] of probes) {
    const xs = new Float32Array(n).fill(x);
    assert.equal(xs[0], x, `${x} is a float32 value`);
    const us = roundingUniforms(rng, new Float32Array(n));
    const got = await roundInGraph(cpuEngine, xs, us);
    let up = 0, sum = 0;
    for (const y of got) {
      assert.ok(y === lo || y === hi, `x=${x}: ${y}`);
      if (y === hi) up++;
      sum += y;
    }
    // Five binomial standard deviations (a false alarm about once in 3.5
    // million); the seed is fixed, so the test is deterministic anyway.
    const sd = Math.sqrt(p * (1 - p) / n);
    assert.ok(
      Math.abs(up / n - p) <= 5 * sd,
      `x=${x}: up ${up / n}, want ${p} +- ${5 * sd}`,
    );
    // Unbiased: the mean of the rounded values is x.
    const spacing = Math.abs(hi - lo);
    assert.ok(Math.abs(sum / n - x) <= 5 * sd * spacing, `mean of x=${x}`);
  }
});

Deno.test("rounding uniforms are the top 16 bits of each 32-bit draw, over 2^16", () => {
  const a = new Pcg32(42, 4), b = new Pcg32(42, 4);
  const us = roundingUniforms(a, new Float32Array(1000));
  for (const u of us) {
    const r = b.nextUint32();
    assert.equal(u * 65536, Math.floor(r / 65536));
  }
});
