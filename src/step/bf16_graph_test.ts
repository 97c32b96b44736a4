// The in-graph bf16 rounding (Veltkamp split + subnormal path, zeros as +0)
// is bit-exact
// against the host reference (itself checked against torch's conversion in
// bf16_test.ts) on every backend: torch's own cases, every tie and power of
// two over the exponent range, subnormals, and a million random bit patterns.

import assert from "node:assert/strict";
import { Builder } from "../graph/builder.ts";
import { toOnnx } from "../graph/onnx.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import type { Engine } from "../runtime/engine.ts";
import { wasmEngine } from "../runtime/wasm.ts";
import { probeAdapter } from "../runtime/webgpu_probe.ts";
import { roundArrayToBf16 } from "../data/bf16.ts";
import { roundToBf16InGraph } from "./bf16_graph.ts";

/** Largest magnitude the split handles (x * 65537 must stay finite). */
const LIMIT = 5.19e33;

function cases(): Float32Array {
  const out: number[] = [];
  const torchCases = JSON.parse(
    Deno.readTextFileSync(
      new URL("../../fixtures/bf16/rounding_cases.json", import.meta.url),
    ),
  );
  // [float32 bits, bf16 bits] pairs from torch's own conversion.
  const bitsView = new Uint32Array(1),
    asFloat = new Float32Array(bitsView.buffer);
  for (const [bits] of torchCases.cases as [number, number][]) {
    bitsView[0] = bits;
    if (Number.isFinite(asFloat[0])) out.push(asFloat[0]);
  }
  const u = new Uint32Array(1), f = new Float32Array(u.buffer);
  for (let e = 1; e < 236; e++) {
    // power of two, exact ties (mantissa ...1000...0 below bit 16) and
    // one-off neighbours, both signs
    for (const m of [0, 0x8000, 0x18000, 0x7fff, 0x8001, 0x17fff, 0x7f8000]) {
      for (const s of [0, 0x80000000]) {
        u[0] = s | (e << 23) | m;
        out.push(f[0]);
      }
    }
  }
  for (let m = 1; m < 0x800000; m += 0x1fff) { // subnormals
    u[0] = m;
    out.push(f[0], -f[0]);
  }
  out.push(0, -0);
  let s = 12345;
  while (out.length < 1 << 20) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    u[0] = s;
    if (Number.isFinite(f[0]) && Math.abs(f[0]) < LIMIT) out.push(f[0]);
  }
  return Float32Array.from(out.filter((x) => Math.abs(x) < LIMIT));
}

const engines: Engine[] = [cpuEngine, wasmEngine];
if (!Deno.env.get("HORIZON_SKIP_WEBGPU") && await probeAdapter()) {
  engines.push((await import("../runtime/webgpu.ts")).webgpuEngine);
}

for (const engine of engines) {
  Deno.test(`${engine.name}: graph bf16 rounding is bit-exact round-to-nearest-even`, async () => {
    const xs = cases();
    const b = new Builder();
    const x = b.input("x", [xs.length]);
    b.output("y", roundToBf16InGraph(b, x));
    const session = await engine.load(toOnnx(b, { name: "bf16" }));
    try {
      const out = await session.run({ x: session.tensor(xs, [xs.length]) });
      const got = new Uint32Array(
        Float32Array.from(await session.read(out.y)).buffer,
      );
      // Reference: round-to-nearest-even, zeros canonicalised to +0.
      const want = new Uint32Array(roundArrayToBf16(xs.slice()).buffer)
        .map((bits) => (bits === 0x80000000 ? 0 : bits));
      let bad = 0, first = -1;
      for (let i = 0; i < want.length; i++) {
        if (got[i] !== want[i]) {
          bad++;
          if (first < 0) first = i;
        }
      }
      assert.equal(
        bad,
        0,
        `${bad}/${xs.length} differ; first: x=${xs[first]} got bits ${
          got[first]?.toString(16)
        } want ${want[first]?.toString(16)}`,
      );
    } finally {
      await session.release();
    }
  });
}
