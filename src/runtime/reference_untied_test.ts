// The untied output head (`model.tiedHead: false`) against PyTorch
// (tools/reference/make_untied.py: a tiny GPT-2 with its own lm_head.weight,
// HF's N(0, 0.02) head init, the head weight-decayed, 5 AdamW steps in fp32
// and in bf16 storage). Tolerances are tools/reference/README.md's, from the
// float32-vs-float64 noise of the same arithmetic: step-0 logits 1e-5, loss
// 1e-6, every gradient 1e-4 relative to the tensor's largest |value|; losses
// over the steps 1e-5 relative; the state after the steps within 2 lr0 (fp32;
// at most 0.1% of elements beyond 1e-5) or one bf16 rounding (bf16; at most 1%
// of elements differ, none by more than 5e-4).
//
// Beyond the arithmetic it pins what 11.3c-untied-head rests on, on both
// sides independently: an input-embedding row whose token is not an input of
// the batch gets exactly zero gradient, and in bf16 storage the rows of the
// tokens that are never an input stay bit-identical to their initial values
// (the decay, at most 1e-5 of a value, is below half a bf16 ulp), while the
// head's rows of the same tokens are trained.

import assert from "node:assert/strict";
import { floats } from "../testing/reference_fixture.ts";
import { isDecayed, paramLayout } from "../step/step.ts";
import {
  batchAt,
  checkStep0,
  checkSteps,
  gradientsAt0,
  initOf,
  modelOf,
  openTinyFixture,
  stepConfigOf,
  type TinyModel,
  trainSteps,
} from "../testing/tiny_reference.ts";

const { file, common, cases } = await openTinyFixture<
  { model: TinyModel; absent_inputs: number[] }
>("gpt2_untied_v1.safetensors.br");
const model = modelOf(common.model);
assert.equal(model.tiedHead, false);
const WTE = "transformer.wte.weight", HEAD = "lm_head.weight";
const d = model.dModel;

/** Rows (token ids) of `a` and `b` that are not bit-identical. */
function rowsThatDiffer(a: Float32Array, b: Float32Array, rows: number[]) {
  return rows.filter((r) =>
    a.subarray(r * d, (r + 1) * d).some((x, j) => !Object.is(x, b[r * d + j]))
  );
}

for (const [name, c] of cases) {
  const cfg = stepConfigOf(model, c);

  // The decay is too small to see in a few steps, so the mask itself is
  // checked against the script's HF Trainer rule (the head decays).
  Deno.test(`reference ${name}: weight decay falls on the parameters HF decays`, () => {
    const ours = Object.fromEntries(
      paramLayout(model).map((s) => [s.name, isDecayed(s, model, cfg.decay)]),
    );
    assert.deepEqual(ours, c.weight_decay_mask);
    assert.equal(ours[HEAD], true);
  });

  Deno.test(`reference ${name}: logits, loss and every gradient at step 0`, async () => {
    const init = await initOf(file, cfg);
    const batch = await batchAt(file, c, 0);
    const got = await gradientsAt0(cfg, init, batch);
    const line = await checkStep0({ file, name, c }, got);
    // Rows of tokens that are not inputs of this batch: exactly zero in both.
    const inputs = new Set(batch.inputIds);
    const idle = [...Array(model.vocabSize).keys()].filter((t) =>
      !inputs.has(t)
    );
    const zero = new Float32Array(model.vocabSize * d);
    const refWte = await floats(file, `${name}.step0.grad.${WTE}`);
    assert.deepEqual(rowsThatDiffer(got.grads.get(WTE)!, zero, idle), []);
    assert.deepEqual(rowsThatDiffer(refWte, zero, idle), []);
    // ... while the head's rows of the same tokens get gradient.
    assert.equal(
      rowsThatDiffer(got.grads.get(HEAD)!, zero, idle).length,
      idle.length,
    );
    console.log(
      `${name}: ${line}, ${idle.length} idle wte rows with zero gradient`,
    );
  });

  Deno.test(`reference ${name}: ${c.steps} AdamW steps (loss, final state)`, async () => {
    const init = await initOf(file, cfg);
    const got = await trainSteps({ file, c }, { config: cfg, init });
    const line = await checkSteps({ file, name, c }, got);
    const absent = common.absent_inputs;
    assert.ok(absent.length > 0);
    const start = init.get(WTE)!;
    const moved = rowsThatDiffer(got.params.get(WTE)!, start, absent);
    const refMoved = rowsThatDiffer(
      await floats(file, `${name}.after${c.steps}.${WTE}`),
      start,
      absent,
    );
    // The head's rows of the same tokens move in both precisions.
    const headMoved = rowsThatDiffer(
      got.params.get(HEAD)!,
      init.get(HEAD)!,
      absent,
    );
    assert.equal(headMoved.length, absent.length);
    if (c.precision === "bf16") {
      // Frozen: decay alone is rounded away.
      assert.deepEqual(moved, []);
      assert.deepEqual(refMoved, []);
    } else {
      // fp32 keeps the decay: every never-input row shrinks a little.
      assert.equal(moved.length, absent.length);
      assert.equal(refMoved.length, absent.length);
    }
    console.log(
      `${name}: ${line}; ${moved.length}/${absent.length} never-input wte rows moved`,
    );
  });
}
