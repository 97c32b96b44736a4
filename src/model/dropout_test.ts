import assert from "node:assert/strict";
import { Builder } from "../graph/builder.ts";
import { interpret } from "../graph/reference.ts";
import { floatTensor, intTensor } from "../graph/tensor.ts";
import type { Value } from "../graph/ir.ts";
import type { HostTensor } from "../graph/tensor.ts";
import { parameterSpecs, SEED_MODEL, validateModelConfig } from "./config.ts";
import {
  dropoutLayout,
  dropoutMasks,
  dropoutSize,
  HF_DROPOUT,
  keepScale,
} from "./dropout.ts";
import { forward } from "./gpt2.ts";
import { initParameters } from "./init.ts";

Deno.test("the mask layout: HF's four places per step, in draw order, contiguous", () => {
  const model = { ...SEED_MODEL, dropout: HF_DROPOUT };
  const layout = dropoutLayout(model, 32, 128);
  const N = 32 * 128, d = 64;
  assert.deepEqual(
    layout.map((s) => [s.site, s.layer, s.size]),
    [
      ["embd", null, N * d],
      ["attn", 0, 32 * 2 * 128 * 128],
      ["attn_resid", 0, N * d],
      ["mlp", 0, N * d],
      ["attn", 1, 32 * 2 * 128 * 128],
      ["attn_resid", 1, N * d],
      ["mlp", 1, N * d],
    ],
  );
  layout.slice(1).forEach((s, i) =>
    assert.equal(s.offset, layout[i].offset + layout[i].size)
  );
  // A zero probability draws no mask; no config, no masks at all.
  const attnOnly = dropoutLayout(
    { ...model, dropout: { embd: 0, attn: 0.1, resid: 0 } },
    2,
    4,
  );
  assert.deepEqual(attnOnly.map((s) => s.site), ["attn", "attn"]);
  assert.equal(dropoutSize(attnOnly), 2 * 2 * 2 * 4 * 4);
  assert.deepEqual(dropoutLayout(SEED_MODEL, 2, 4), []);
  assert.equal(keepScale(0.1), Math.fround(1 / 0.9));
});

Deno.test("dropout probabilities outside [0, 1) are refused by name", () => {
  for (const bad of [1, -0.1, Number.NaN, 1.5]) {
    assert.throws(
      () =>
        validateModelConfig({
          ...SEED_MODEL,
          dropout: { ...HF_DROPOUT, attn: bad },
        }),
      /model\.dropout\.attn must be in \[0, 1\)/,
    );
  }
  validateModelConfig({
    ...SEED_MODEL,
    dropout: { embd: 0, attn: 0, resid: 0.5 },
  });
});

// Masks of ones multiply by 1: the logits must be those of the model without
// dropout, exactly (float64 interpreter), and one dropped element must move
// them, so each site is wired into the forward pass.
Deno.test("masks of ones leave the logits unchanged; a dropped element at any site moves them", () => {
  const model = { ...SEED_MODEL, dModel: 8, context: 4, dropout: HF_DROPOUT };
  const B = 2, T = 4;
  let s = 7;
  const uniform = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const params = initParameters(model, { normal: () => 2 * uniform() - 1 }, {
    embedding: "gpt2",
  });
  const shapes = new Map(parameterSpecs(model).map((p) => [p.name, p.shape]));
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 37) % 128);
  const layout = dropoutLayout(model, B, T);
  const logits = (masks: Float64Array | null): Float64Array => {
    const b = new Builder();
    const feeds: Record<string, HostTensor> = { ids: intTensor([B, T], ids) };
    const p: Record<string, Value> = {};
    for (const [name, v] of params) {
      p[name] = b.input(name, shapes.get(name)!);
      feeds[name] = floatTensor(shapes.get(name)!, Float64Array.from(v));
    }
    let dropout;
    if (masks) {
      const flat = b.input("dropout", [masks.length]);
      dropout = dropoutMasks(b, flat, layout, model.nLayer);
      feeds.dropout = floatTensor([masks.length], masks);
    }
    const idv = b.input("ids", [B, T], "int32");
    const shape = { batch: B, seqLen: T };
    b.output("logits", forward(b, model, p, idv, shape, { dropout }));
    return interpret(b, feeds).logits.data as Float64Array;
  };
  const plain = logits(null);
  const ones = new Float64Array(dropoutSize(layout)).fill(1);
  assert.deepEqual(logits(ones), plain);
  for (const seg of layout) {
    // The last position of the last window sees every earlier one, so a
    // dropped element anywhere in its window reaches its logits.
    const masks = ones.slice();
    masks[seg.offset + seg.size - 1] = 0;
    const moved = logits(masks);
    assert.ok(
      moved.some((x, i) => x !== plain[i]),
      `${seg.site} ${seg.layer}: no effect`,
    );
  }
});
