// The cross-entropy and the mean of the norms are written for few kernels;
// on the cpu backend they must give the numbers of the plain compositions
// they replace, bit for bit (the committed run records depend on it).

import assert from "node:assert/strict";
import { Builder } from "../graph/builder.ts";
import { gradients } from "../graph/autodiff.ts";
import type { Value } from "../graph/ir.ts";
import { toOnnx } from "../graph/onnx.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import { crossEntropy } from "./gpt2.ts";
import { rowMean } from "./layers.ts";

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return scale * (2 * (s / 2 ** 32) - 1);
  });
}

/** The cross-entropy as autodiff saw it before: log-softmax times one-hot. */
function plainCrossEntropy(
  b: Builder,
  logits: Value,
  targets: Value,
  weights: Value,
): Value {
  const vocab = logits.shape[1];
  const max = b.reduceMax(logits, [1], true);
  const shifted = b.sub(logits, max);
  const logSumExp = b.log(b.reduceSum(b.exp(shifted), [1], true));
  const logProbs = b.sub(shifted, logSumExp);
  const picked = b.reduceSum(
    b.mul(logProbs, b.oneHot(targets, vocab)),
    [1],
    false,
  );
  return b.neg(b.reduceSum(b.mul(picked, weights), [0], false));
}

/** Runs both builds on cpu and returns each output's bits per build. */
async function runBoth(
  build: (
    b: Builder,
    plain: boolean,
    inputs: Record<string, Value>,
  ) => Record<string, Value>,
  feeds: Record<string, { data: Float32Array | Int32Array; shape: number[] }>,
): Promise<Record<string, Float32Array>[]> {
  const results: Record<string, Float32Array>[] = [];
  for (const plain of [true, false]) {
    const b = new Builder();
    const inputs: Record<string, Value> = {};
    for (const [k, f] of Object.entries(feeds)) {
      inputs[k] = b.input(
        k,
        f.shape,
        f.data instanceof Int32Array ? "int32" : "float32",
      );
    }
    const outputs = build(b, plain, inputs);
    for (const [k, v] of Object.entries(outputs)) b.output(k, v);
    const session = await cpuEngine.load(toOnnx(b, { name: "t" }));
    try {
      const got = await session.run(
        Object.fromEntries(
          Object.entries(feeds).map((
            [k, f],
          ) => [k, session.tensor(f.data, f.shape)]),
        ),
      );
      const out: Record<string, Float32Array> = {};
      for (const k of Object.keys(outputs)) {
        out[k] = Float32Array.from(await session.read(got[k]));
      }
      results.push(out);
    } finally {
      await session.release();
    }
  }
  return results;
}

function assertSameNumbers(
  a: Record<string, Float32Array>,
  b: Record<string, Float32Array>,
) {
  for (const k of Object.keys(a)) {
    // Values, not bits: zeros may differ in sign (see joinPaddedSum in graph/join_padded.ts).
    const bad = a[k].findIndex((x, i) => x !== b[k][i]);
    assert.equal(bad, -1, `${k}[${bad}]: ${a[k][bad]} vs ${b[k][bad]}`);
  }
}

Deno.test("cpu: the cross-entropy and its gradient equal the plain composition's", async () => {
  const n = 512, vocab = 128;
  const weights = values(n, 3, 1).map((x, i) => (i % 7 === 0 ? 0 : 1 + x));
  const [plain, fused] = await runBoth((b, plainForm, v) => {
    const loss = (plainForm ? plainCrossEntropy : crossEntropy)(
      b,
      v.logits,
      v.targets,
      v.weights,
    );
    return { loss, grad: gradients(b, loss, [v.logits])[0] };
  }, {
    logits: { data: values(n * vocab, 1, 8), shape: [n, vocab] },
    targets: {
      data: Int32Array.from({ length: n }, (_, i) => (i * 37) % vocab),
      shape: [n],
    },
    weights: { data: weights, shape: [n] },
  });
  assertSameNumbers(plain, fused);
});

Deno.test("cpu: rowMean equals the sum-then-scale mean", async () => {
  const [plain, fused] = await runBoth((b, plainForm, v) => ({
    mean: plainForm ? b.mean(v.x, [1], true) : rowMean(b, v.x),
  }), { x: { data: values(64000, 5, 3), shape: [1000, 64] } });
  assertSameNumbers(plain, fused);
});
