// The closed-form gradients of the composite layers against central finite
// differences of the float64 reference interpreter, as for primitive ops.

import assert from "node:assert/strict";
import { Builder } from "../graph/builder.ts";
import { gradients } from "../graph/autodiff.ts";
import type { Value } from "../graph/ir.ts";
import { interpret } from "../graph/reference.ts";
import { floatTensor, type HostTensor } from "../graph/tensor.ts";
import { geluNew, layerNorm, rmsNorm } from "./layers.ts";
import { type Bf16Tensors, geluNewBf16, rmsNormBf16 } from "./bf16_layers.ts";

function values(n: number, seed: number, scale = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return scale * (2 * (s / 2 ** 32) - 1);
  });
}

function checkLayer(
  name: string,
  shapes: Record<string, number[]>,
  build: (b: Builder, v: Record<string, Value>) => Value,
) {
  Deno.test(`custom gradient matches finite differences: ${name}`, () => {
    const b = new Builder();
    const feeds: Record<string, HostTensor> = {};
    const vals: Record<string, Value> = {};
    let seed = 7;
    for (const [k, shape] of Object.entries(shapes)) {
      vals[k] = b.input(k, shape);
      const n = shape.reduce((a, c) => a * c, 1);
      feeds[k] = floatTensor(shape, values(n, seed++, 1.5));
    }
    const y = build(b, vals);
    const n = y.shape.reduce((a, c) => a * c, 1);
    const r = b.constant(Float32Array.from(values(n, 99)), y.shape);
    const loss = b.reduceSum(b.reshape(b.mul(y, r), [n]), [0], false);
    const names = Object.keys(shapes);
    const grads = gradients(b, loss, names.map((k) => vals[k]));
    b.output("loss", loss);
    grads.forEach((g, i) => b.output(`d${i}`, g));
    const analytic = interpret(b, feeds);
    names.forEach((k, i) => {
      const x = feeds[k].data as Float64Array;
      let worst = 0;
      for (let j = 0; j < x.length; j++) {
        const keep = x[j];
        x[j] = keep + 1e-6;
        const up = interpret(b, feeds).loss.data[0];
        x[j] = keep - 1e-6;
        const down = interpret(b, feeds).loss.data[0];
        x[j] = keep;
        const fd = (up - down) / 2e-6;
        worst = Math.max(
          worst,
          Math.abs(fd - analytic[`d${i}`].data[j]) / Math.max(1, Math.abs(fd)),
        );
      }
      assert.ok(worst < 1e-6, `${name}: d/d${k} off by ${worst}`);
    });
  });
}

checkLayer("gelu_new", { u: [3, 5] }, (b, v) => geluNew(b, v.u));
checkLayer(
  "layerNorm",
  { x: [3, 6], w: [6], bias: [6] },
  (b, v) => layerNorm(b, v.x, v.w, v.bias, 1e-5),
);
checkLayer(
  "rmsNorm",
  { x: [3, 6], w: [6] },
  (b, v) => rmsNorm(b, v.x, v.w, 1e-5),
);

// With rounding switched off, the bf16 layers' split gradients (PyTorch's
// per-op contributions) must still add up to the true derivative.
const noRounding: Bf16Tensors = {
  round: (v) => v,
  tensor: (v) => v,
  gradient: (v) => v,
  constant: (x) => x,
};
checkLayer(
  "gelu_new in bf16 arithmetic, rounding off",
  { u: [3, 5] },
  (b, v) => geluNewBf16(b, v.u, noRounding),
);
checkLayer(
  "rmsNorm in bf16 arithmetic, rounding off",
  { x: [3, 6], w: [6] },
  (b, v) => rmsNormBf16(b, v.x, v.w, 1e-5, noRounding),
);

Deno.test("gelu_new forward matches the formula at hand-picked points", () => {
  const b = new Builder();
  const u = b.input("u", [3]);
  b.output("y", geluNew(b, u));
  const { y } = interpret(b, { u: floatTensor([3], [-1, 0, 2]) });
  const f = (x: number) =>
    0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  // The graph's constants are float32 (as torch casts Python scalars), so
  // agreement with the float64 formula is to ~1e-8, not to the last bit.
  [-1, 0, 2].forEach((x, i) => assert.ok(Math.abs(y.data[i] - f(x)) < 1e-7));
  // Values of the tanh approximation computed independently (Python float64).
  assert.ok(Math.abs(y.data[2] - 1.954597694) < 1e-7);
  assert.ok(Math.abs(y.data[0] - -0.158808009) < 1e-7);
});
