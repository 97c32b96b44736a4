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
import { floats, openReferenceFixture } from "../testing/reference_fixture.ts";
import {
  batchAt,
  checkParams,
  gradientsAt0,
  initOf,
  modelOf,
  relDiff,
  STEP0_TOL,
  stepConfigOf,
  type TinyCase,
  type TinyModel,
  trainSteps,
} from "../testing/tiny_reference.ts";

const FIXTURE = new URL(
  "../../fixtures/reference/gpt2_dropout_v1.safetensors.br",
  import.meta.url,
).pathname;

interface Common {
  model: TinyModel;
  dropout: DropoutConfig;
  seeds: { masks: number; mask_stream: number };
  mask_sha256: string;
  mask_dropped: number;
}

const file = await openReferenceFixture(FIXTURE);
assert.equal(file.metadata.magic, "horizon-reference");
assert.equal(file.metadata.version, "1");
const { common, ...cases } = JSON.parse(file.metadata.cases) as
  & { common: Common }
  & Record<string, TinyCase>;
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
  const c = Object.values(cases)[0] as TinyCase;
  const masks = masksOf(c);
  const all = new Float32Array(masks.reduce((n, m) => n + m.length, 0));
  masks.forEach((m, t) => all.set(m, t * m.length));
  assert.equal(await sha256Hex(new Uint8Array(all.buffer)), common.mask_sha256);
  assert.equal(all.filter((x) => x === 0).length, common.mask_dropped);
});

for (const [name, c] of Object.entries(cases) as [string, TinyCase][]) {
  const cfg = stepConfigOf(model, c);
  const masks = masksOf(c);

  Deno.test(`reference ${name}: logits, loss and every gradient at step 0`, async () => {
    const init = await initOf(file, cfg);
    const batch = await batchAt(file, c, 0);
    const got = await gradientsAt0(cfg, init, batch, { dropout: masks[0] });
    const refLoss = (await floats(file, `${name}.loss`))[0];
    const lossRel = Math.abs(got.loss - refLoss) / Math.abs(refLoss);
    assert.ok(lossRel <= STEP0_TOL.loss, `loss rel ${lossRel}`);
    if (c.precision === "fp32") {
      const r = relDiff(got.logits, await floats(file, `${name}.step0.logits`));
      assert.ok(r <= STEP0_TOL.logits, `logits rel ${r}`);
    }
    let worst = 0;
    for (const [p, g] of got.grads) {
      const r = relDiff(g, await floats(file, `${name}.step0.grad.${p}`));
      assert.ok(r <= STEP0_TOL.grad, `grad ${p}: rel ${r}`);
      worst = Math.max(worst, r);
    }
    // Power check: without dropout the same comparison fails.
    const off = await gradientsAt0(
      stepConfigOf(modelOf(common.model), c),
      init,
      batch,
    );
    const offLoss = Math.abs(off.loss - refLoss) / Math.abs(refLoss);
    let offGrad = 0;
    for (const [p, g] of off.grads) {
      offGrad = Math.max(
        offGrad,
        relDiff(g, await floats(file, `${name}.step0.grad.${p}`)),
      );
    }
    assert.ok(offLoss > 100 * STEP0_TOL.loss, `off: loss rel ${offLoss}`);
    assert.ok(offGrad > 100 * STEP0_TOL.grad, `off: gradient rel ${offGrad}`);
    console.log(
      `${name}: loss rel ${lossRel.toExponential(2)}, worst gradient rel ${
        worst.toExponential(2)
      }; dropout off: loss rel ${
        offLoss.toExponential(2)
      }, worst gradient rel ${offGrad.toExponential(2)}`,
    );
  });

  Deno.test(`reference ${name}: ${c.steps} AdamW steps (loss, final state); off fails`, async () => {
    const init = await initOf(file, cfg);
    const got = await trainSteps(cfg, init, c.steps, async (t) => ({
      batch: await batchAt(file, c, t),
      dropout: masks[t],
    }));
    const refLoss = await floats(file, `${name}.loss`);
    const lossRel = relDiff(got.losses, refLoss);
    assert.ok(lossRel < 1e-5, `loss rel ${lossRel}`);
    const line = await checkParams(
      file,
      `${name}.after${c.steps}`,
      got.params,
      c,
    );
    const off = await trainSteps(
      stepConfigOf(modelOf(common.model), c),
      init,
      c.steps,
      async (t) => ({ batch: await batchAt(file, c, t) }),
    );
    await assert.rejects(
      () => checkParams(file, `${name}.after${c.steps}`, off.params, c),
      assert.AssertionError,
    );
    const offLoss = relDiff(off.losses, refLoss);
    assert.ok(offLoss > 10 * 1e-5, `off: loss rel ${offLoss}`);
    console.log(
      `${name}: loss rel ${
        lossRel.toExponential(2)
      }; ${line}; dropout off: loss rel ${offLoss.toExponential(2)}`,
    );
  });
}
