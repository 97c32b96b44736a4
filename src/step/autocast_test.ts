// The autocast matrix product against a host computation: outputs and both
// gradient products are bf16 values and equal bf16(bf16(x) @ bf16(y)) up to a
// rounding tie; and a training step with autocast keeps dead rows identical.

import assert from "node:assert/strict";
import { Builder } from "../graph/builder.ts";
import { gradients } from "../graph/autodiff.ts";
import { toOnnx } from "../graph/onnx.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import { train } from "../runtime/trainer.ts";
import { loadCorpus } from "../data/corpus.ts";
import { autocastMatmul } from "./autocast.ts";
import { isBf16Exact, roundArrayToBf16 } from "../data/bf16.ts";
import { SEED_RUN } from "./config.ts";

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return 2 * (s / 2 ** 32) - 1;
  });
}

/** c = a @ b (row-major, float64 accumulation), rounded to bf16. */
function hostProduct(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
  }
  return roundArrayToBf16(out);
}

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  }
  return out;
}

function assertBf16Close(got: Float32Array, want: Float32Array, what: string) {
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      isBf16Exact(got[i]),
      `${what}[${i}] = ${got[i]} is not a bf16 value`,
    );
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want[i]) || 1e-30)) - 7);
    assert.ok(
      Math.abs(got[i] - want[i]) <= ulp,
      `${what}[${i}]: ${got[i]} vs ${want[i]}`,
    );
  }
}

Deno.test("autocast matmul: forward and gradient products are bf16 products of bf16 operands", async () => {
  const [M, K, N] = [5, 7, 3];
  const b = new Builder();
  const a = b.input("a", [M, K]);
  const w = b.input("w", [K, N]);
  const r = b.input("r", [M, N]);
  const y = autocastMatmul(b, a, w);
  const loss = b.reduceSum(b.reshape(b.mul(y, r), [M * N]), [0], false);
  const [da, dw] = gradients(b, loss, [a, w]);
  b.output("y", y);
  b.output("da", da);
  b.output("dw", dw);
  const av = rand(M * K, 1), wv = rand(K * N, 2), rv = rand(M * N, 3);
  const s = await cpuEngine.load(toOnnx(b, { name: "autocast" }));
  try {
    const out = await s.run({
      a: s.tensor(av, [M, K]),
      w: s.tensor(wv, [K, N]),
      r: s.tensor(rv, [M, N]),
    });
    const ra = roundArrayToBf16(av.slice()), rw = roundArrayToBf16(wv.slice());
    const rr = roundArrayToBf16(rv.slice());
    assertBf16Close(
      out.y.data as Float32Array,
      hostProduct(ra, rw, M, K, N),
      "y",
    );
    // da = bf16(bf16(dy) @ bf16(w)^T), dw = bf16(bf16(a)^T @ bf16(dy)), dy = r
    assertBf16Close(
      out.da.data as Float32Array,
      hostProduct(rr, transpose(rw, K, N), M, N, K),
      "da",
    );
    assertBf16Close(
      out.dw.data as Float32Array,
      hostProduct(transpose(ra, M, K), rr, K, M, N),
      "dw",
    );
  } finally {
    await s.release();
  }
});

Deno.test("a training step with autocast keeps every dead-token row identical", async () => {
  const corpus = await loadCorpus(
    new URL("../../fixtures/corpus/brown.txt", import.meta.url).pathname,
    { context: 16 },
  );
  const dead = corpus.deadTokens;
  const config = { ...SEED_RUN, batchSize: 2, seqLen: 16, autocast: true };
  let checked = 0;
  const result = await train(config, corpus.bytes, {
    backend: "cpu",
    steps: 3,
    embeddingEvery: 1,
    onEmbedding: (_step, wte) => {
      for (const t of dead) {
        for (let j = 0; j < 64; j++) {
          assert.ok(Object.is(wte[t * 64 + j], wte[dead[0] * 64 + j]));
        }
      }
      checked++;
    },
  });
  assert.equal(checked, 4);
  assert.ok(result.losses[2] < result.losses[0], "the loss decreases");
});

Deno.test("autocast without bf16 storage is refused", async () => {
  const corpus = new TextEncoder().encode("abcdefgh ".repeat(10));
  await assert.rejects(
    () =>
      train(
        {
          ...SEED_RUN,
          batchSize: 2,
          seqLen: 16,
          precision: "fp32",
          autocast: true,
        },
        corpus,
        { backend: "cpu", steps: 1 },
      ),
    /autocast needs precision "bf16"/,
  );
});
