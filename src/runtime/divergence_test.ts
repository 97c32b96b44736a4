import assert from "node:assert/strict";
import {
  DivergedError,
  firstNonFinite,
  lossBound,
  stepDivergence,
} from "./divergence.ts";

Deno.test("a step diverges on a non-finite loss or gradient norm, or a loss above 10 ln V", () => {
  // ln 128 = 4.852: the bound is 48.52 (hand-computed).
  assert.ok(Math.abs(lossBound(128) - 48.520302639196) < 1e-9);
  assert.equal(stepDivergence(5, 4.85, 0.9, 128), null);
  assert.equal(stepDivergence(5, 48.5, 0.9, 128), null);
  assert.deepEqual(stepDivergence(5, 48.6, 0.9, 128), {
    step: 5,
    quantity: "loss",
    value: 48.6,
  });
  assert.equal(stepDivergence(2, NaN, 1, 128)?.quantity, "loss");
  assert.equal(stepDivergence(2, Infinity, 1, 128)?.quantity, "loss");
  assert.equal(stepDivergence(2, 4, NaN, 128)?.quantity, "gradient norm");
  assert.equal(stepDivergence(2, 4, -Infinity, 128)?.quantity, "gradient norm");
});

Deno.test("firstNonFinite finds NaN and ±Infinity, not large finite values", () => {
  assert.equal(firstNonFinite(new Float32Array([1, 3.4e38, -3.4e38])), -1);
  assert.equal(firstNonFinite(new Float32Array([1, 2, NaN])), 2);
  assert.equal(firstNonFinite(new Float32Array([-Infinity, NaN])), 0);
});

Deno.test("the diverged message names the step, the quantity and the value", () => {
  const e = new DivergedError({ step: 2, quantity: "loss", value: NaN }, {
    losses: new Float32Array([4.8, NaN]),
    gradNorms: new Float32Array([1, NaN]),
  });
  assert.equal(e.message, "diverged at step 2 (loss NaN)");
  const big = new DivergedError(
    { step: 3, quantity: "loss", value: 164.09353637695312 },
    { losses: new Float32Array(3), gradNorms: new Float32Array(3) },
  );
  assert.equal(big.message, "diverged at step 3 (loss 164.094)");
});
