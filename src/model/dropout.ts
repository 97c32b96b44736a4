/**
 * Dropout as HF GPT-2 applies it, with its masks given rather than drawn in
 * the graph: the host draws them from a seeded stream (so every backend sees
 * the same bits) and feeds them as one flat input per step, laid out as
 * {@link dropoutLayout} says. A mask element is 0 (dropped) or 1/(1-p)
 * (inverted dropout: kept values are scaled so the expectation is unchanged).
 *
 * HF's places, each a plain product with the mask, so its gradient is the
 * same product (the Mul op's own vector-Jacobian product):
 * - `embd` (`embd_pdrop`): after `wte[ids] + wpe`;
 * - `attn` (`attn_pdrop`): on the attention probabilities, before `@ v`;
 * - `attn_resid` and `mlp` (both `resid_pdrop`): after `attn.c_proj` and
 *   after `mlp.c_proj`, before the residual sums.
 *
 * @module
 */

import type { Builder } from "../graph/builder.ts";
import type { Value } from "../graph/ir.ts";

/** Dropout probabilities, named as HF GPT-2's config names them. */
export interface DropoutConfig {
  /** After the embedding sum (HF `embd_pdrop`). */
  readonly embd: number;
  /** On the attention probabilities (HF `attn_pdrop`). */
  readonly attn: number;
  /** After attn.c_proj and mlp.c_proj (HF `resid_pdrop`). */
  readonly resid: number;
}

/** HF GPT-2's defaults: 0.1 everywhere. */
export const HF_DROPOUT: DropoutConfig = Object.freeze({
  embd: 0.1,
  attn: 0.1,
  resid: 0.1,
});

/** Where a mask applies. */
export type DropoutSite = "embd" | "attn" | "attn_resid" | "mlp";

/** One mask's place in the flat per-step input. */
export interface DropoutSegment {
  /** Where it applies. */
  readonly site: DropoutSite;
  /** Its block (`null` for `embd`). */
  readonly layer: number | null;
  /** Drop probability. */
  readonly p: number;
  /** [B*T, d] for embd, attn_resid and mlp; [B*nHead, T, T] for attn. */
  readonly shape: readonly number[];
  /** First element in the flat input. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
}

/** The sizes {@link dropoutLayout} needs. */
export interface DropoutShape {
  /** Dropout probabilities (absent: none). */
  readonly dropout?: DropoutConfig;
  /** Residual width. */
  readonly dModel: number;
  /** Number of blocks. */
  readonly nLayer: number;
  /** Attention heads per block. */
  readonly nHead: number;
}

/**
 * The masks of one step in draw order: `embd`, then per block `attn`,
 * `attn_resid`, `mlp`; a site whose probability is 0 has no mask.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropoutLayout, HF_DROPOUT } from "./dropout.ts";
 * const model = { dropout: HF_DROPOUT, dModel: 64, nLayer: 2, nHead: 2 };
 * const layout = dropoutLayout(model, 32, 128);
 * assert.deepEqual(layout.map((s) => s.site).slice(0, 4), ["embd", "attn", "attn_resid", "mlp"]);
 * assert.equal(layout.at(-1)!.offset + layout.at(-1)!.size, 3_407_872);
 * ```
 */
export function dropoutLayout(
  model: DropoutShape,
  batch: number,
  seqLen: number,
): DropoutSegment[] {
  const out: DropoutSegment[] = [];
  const p = model.dropout;
  if (!p) return out;
  const n = batch * seqLen, d = model.dModel;
  let offset = 0;
  const add = (
    site: DropoutSite,
    layer: number | null,
    prob: number,
    shape: number[],
  ) => {
    if (prob === 0) return;
    const size = shape.reduce((a, b) => a * b, 1);
    out.push({ site, layer, p: prob, shape, offset, size });
    offset += size;
  };
  add("embd", null, p.embd, [n, d]);
  for (let i = 0; i < model.nLayer; i++) {
    add("attn", i, p.attn, [batch * model.nHead, seqLen, seqLen]);
    add("attn_resid", i, p.resid, [n, d]);
    add("mlp", i, p.resid, [n, d]);
  }
  return out;
}

/** Elements of a step's flat mask input (0: dropout is off). */
export function dropoutSize(layout: readonly DropoutSegment[]): number {
  const last = layout.at(-1);
  return last ? last.offset + last.size : 0;
}

/**
 * The value a kept element is multiplied by: 1/(1-p) rounded to float32
 * (the masks are float32 inputs).
 */
export function keepScale(p: number): number {
  return Math.fround(1 / (1 - p));
}

/** A step's masks as graph values, by site (see {@link dropoutMasks}). */
export interface DropoutMasks {
  /** [B*T, d], after the embedding sum. */
  readonly embd?: Value;
  /** Per block. */
  readonly layers: readonly {
    /** [B*nHead, T, T], on the attention probabilities. */
    readonly attn?: Value;
    /** [B*T, d], after attn.c_proj. */
    readonly attnResid?: Value;
    /** [B*T, d], after mlp.c_proj. */
    readonly mlp?: Value;
  }[];
}

/** Slices the flat mask input `flat` into the masks of `layout`. */
export function dropoutMasks(
  b: Builder,
  flat: Value,
  layout: readonly DropoutSegment[],
  nLayer: number,
): DropoutMasks {
  const view = (s: DropoutSegment) =>
    b.reshape(b.slice(flat, 0, s.offset, s.offset + s.size), s.shape);
  const layers = Array.from(
    { length: nLayer },
    (_, i) => {
      const at = (site: DropoutSite) => {
        const s = layout.find((x) => x.layer === i && x.site === site);
        return s ? view(s) : undefined;
      };
      return { attn: at("attn"), attnResid: at("attn_resid"), mlp: at("mlp") };
    },
  );
  const embd = layout.find((s) => s.site === "embd");
  return { embd: embd ? view(embd) : undefined, layers };
}

/** x * mask, or x when there is no mask. */
export function applyDropout(b: Builder, x: Value, mask?: Value): Value {
  return mask ? b.mul(x, mask) : x;
}

/** Throws a RangeError naming a probability outside [0, 1). */
export function validateDropout(d: DropoutConfig): void {
  for (const k of ["embd", "attn", "resid"] as const) {
    const p = d[k];
    if (!(typeof p === "number" && p >= 0 && p < 1)) {
      throw new RangeError(`model.dropout.${k} must be in [0, 1), got ${p}`);
    }
  }
}
