// Dropout (`model.dropout`, HF GPT-2's 0.1 at embd, attn and resid) against
// PyTorch (tools/reference/make_dropout.py: every nn.Dropout replaced by a
// product with the same mask, 5 AdamW steps in fp32 and in bf16 storage).
// The masks are horizon's own host draws (drawDropoutMasks on the dropout
// stream); the script draws them with an independent PCG32, and their
// SHA-256 must match before they are fed.
//
// Tolerances are tools/reference/README.md's, from the float32-vs-float64
// noise of the same arithmetic (masking adds none: a product with 0 or a
// fixed float32 1/(1-p) is the same on both sides): step-0 logits 1e-5, loss
// 1e-6, every gradient 1e-4 relative to the tensor's largest |value|; losses
// over the 5 steps 1e-5 relative; the state after them within 2 lr0 (fp32;
// at most 0.1% of elements beyond 1e-5) or one bf16 rounding (bf16; at most
// 1% of elements differ, none by more than 5e-4).
//
// Power check: the same comparison with dropout switched off must fail. At
// step 0 the loss without dropout is 3.8e-4 away (relative) from the
// reference, 380 times the loss tolerance.

import assert from "node:assert/strict";
import { Pcg32, Stream } from "../data/rng.ts";
import { sha256Hex } from "../step/config.ts";
import { drawDropoutMasks } from "../step/dropout_masks.ts";
import {
  type DropoutConfig,
  dropoutLayout,
  dropoutSize,
} from "../model/dropout.ts";
import {
  batchAt,
  checkParams,
  checkStep0,
  checkSteps,
  gradientsAt0,
  initOf,
  modelOf,
  openTinyFixture,
  relDiff,
  STEP0_TOL,
  step0Distance,
  stepConfigOf,
  STEPS_LOSS_TOL,
  type TinyCase,
  type TinyModel,
  trainSteps,
} from "../testing/tiny_reference.ts";
import { floats } from "../testing/reference_fixture.ts";

const { file, common, cases } = await openTinyFixture<{
  model: TinyModel;
  dropout: DropoutConfig;
  seeds: { masks: number; mask_stream: number };
  mask_sha256: string;
  mask_dropped: number;
}>("gpt2_dropout_v1.safetensors.br");
const model = { ...modelOf(common.model), dropout: common.dropout };
assert.equal(common.seeds.mask_stream, Stream.dropout);

/** Every step's masks, drawn as a run draws them. */
function masksOf(c: TinyCase): Float32Array[] {
  const layout = dropoutLayout(model, c.B, c.T);
  const rng = new Pcg32(common.seeds.masks, Stream.dropout);
  return Array.from(
    { length: c.steps },
    () => drawDropoutMasks(rng, layout, new Float32Array(dropoutSize(layout))),
  );
}

Deno.test("reference dropout: horizon draws the script's masks", async () => {
  const masks = masksOf(cases[0][1]);
  const all = new Float32Array(masks.reduce((n, m) => n + m.length, 0));
  masks.forEach((m, t) => all.set(m, t * m.length));
  assert.equal(await sha256Hex(new Uint8Array(all.buffer)), common.mask_sha256);
  assert.equal(all.filter((x) => x === 0).length, common.mask_dropped);
});

for (const [name, c] of cases) {
  const cfg = stepConfigOf(model, c);
  const withoutDropout = stepConfigOf(modelOf(common.model), c);
  const masks = masksOf(c);
  const ref = { file, name, c };

  Deno.test(`reference ${name}: logits, loss and every gradient at step 0`, async () => {
    const init = await initOf(file, cfg);
    const batch = await batchAt(file, c, 0);
    const got = await gradientsAt0(cfg, init, batch, { dropout: masks[0] });
    const line = await checkStep0(ref, got);
    // Power check: without dropout the same comparison fails.
    const off = await step0Distance(
      ref,
      await gradientsAt0(withoutDropout, init, batch),
    );
    assert.ok(off.loss > 100 * STEP0_TOL.loss, `off: loss rel ${off.loss}`);
    assert.ok(off.grad > 100 * STEP0_TOL.grad, `off: gradient rel ${off.grad}`);
    console.log(
      `${name}: ${line}; dropout off: loss rel ${
        off.loss.toExponential(2)
      }, worst gradient rel ${off.grad.toExponential(2)}`,
    );
  });

  Deno.test(`reference ${name}: ${c.steps} AdamW steps (loss, final state); off fails`, async () => {
    const init = await initOf(file, cfg);
    const got = await trainSteps(ref, {
      config: cfg,
      init,
      extraAt: (t) => ({ dropout: masks[t] }),
    });
    const line = await checkSteps(ref, got);
    const off = await trainSteps(ref, { config: withoutDropout, init });
    await assert.rejects(
      () => checkParams(ref, off.params),
      assert.AssertionError,
    );
    const offLoss = relDiff(off.losses, await floats(file, `${name}.loss`));
    assert.ok(offLoss > 10 * STEPS_LOSS_TOL, `off: loss rel ${offLoss}`);
    console.log(
      `${name}: ${line}; dropout off: loss rel ${offLoss.toExponential(2)}`,
    );
  });
}
