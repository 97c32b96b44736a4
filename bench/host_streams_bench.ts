/**
 * Host-side per-step streams: one step's dropout masks at HF's defaults for
 * the seed configuration (B=32, T=128, d=64, 2 blocks, 2 heads: 3,407,872
 * elements) and one step's stochastic-rounding uniforms (116,480), next to
 * the same number of draws one `nextUint32()` call at a time. Run with
 * `deno bench -A bench/host_streams_bench.ts`.
 *
 * Measured on the 2-core VM (2026-12-05, two training lanes beside it): one
 * step's masks (draws and their conversion to mask values) 41 ms with a
 * `nextUint32()` call per draw, 28 ms with `fillUint32`; the draws alone
 * 35 ms and 15 ms. The second case here times the draws alone, one call
 * each.
 *
 * @module
 */

import { Pcg32, Stream } from "../src/data/rng.ts";
import {
  dropoutLayout,
  dropoutSize,
  HF_DROPOUT,
} from "../src/model/dropout.ts";
import { drawDropoutMasks } from "../src/step/dropout_masks.ts";
import { roundingUniforms } from "../src/step/stochastic_rounding.ts";

const layout = dropoutLayout(
  { dropout: HF_DROPOUT, dModel: 64, nLayer: 2, nHead: 2 },
  32,
  128,
);
const masks = new Float32Array(dropoutSize(layout));
const draws = new Uint32Array(masks.length);
const uniforms = new Float32Array(116_480);

Deno.bench("dropout masks, one step (fillUint32)", {
  group: "masks",
  baseline: true,
}, () => {
  drawDropoutMasks(new Pcg32(42, Stream.dropout), layout, masks);
});

Deno.bench(
  "as many draws, one nextUint32() call each",
  { group: "masks" },
  () => {
    const rng = new Pcg32(42, Stream.dropout);
    for (let i = 0; i < draws.length; i++) draws[i] = rng.nextUint32();
  },
);

Deno.bench("stochastic-rounding uniforms, one step", () => {
  roundingUniforms(new Pcg32(42, Stream.rounding), uniforms);
});
