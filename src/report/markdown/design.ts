/**
 * The "Design" table of a report: the training setup in words, from the
 * config the runs used.
 *
 * @module
 */

import { replicateSeeds } from "../../hypothesis/grid.ts";
import type { Hypothesis, RunRecord } from "../../hypothesis/types.ts";
import type { TrainConfig } from "../../step/config.ts";
import { storesBf16 } from "../../step/step.ts";
import { table } from "./blocks.ts";
import { codeSpan, escapeCell } from "./escape.ts";
import { formatInt, formatNumber, plural } from "./format.ts";

const NORM_TEXT: Record<string, string> = {
  layernorm: "LayerNorm (weight and bias)",
  rmsnorm: "RMSNorm (weight only, no bias; computed in fp32)",
};

const DECAY_TEXT: Record<string, string> = {
  "hf-trainer":
    "HF Trainer policy: weights and the tied token embedding decay; biases and `nn.LayerNorm` weights do not (a custom RMSNorm's weights do)",
  "matrices-only":
    "weight matrices and embeddings only; no decay on biases or any norm weight",
};

function objectiveText(c: TrainConfig): string {
  const T = c.seqLen;
  if (c.objective === "double-shift") {
    return `double-shift: the logits at position t are trained on byte t+2, not t+1 ` +
      `(the dataset already shifts labels by one and HF GPT2LMHeadModel shifts them ` +
      `again inside its loss); ${
        T - 1
      } targets per row, the summed loss divided by ` +
      `${T} per row as in transformers 4.57`;
  }
  if (c.objective === "next-token") {
    return "next-token: the logits at position t are trained on byte t+1 (the usual language-model objective)";
  }
  return escapeCell(String(c.objective));
}

/** A sweep value as it is written in an override. */
export function valueText(v: unknown): string {
  return typeof v === "number" ? formatNumber(v) : String(v);
}

/** The sweep grid in words: `` `noise.scale` ∈ {1e-8, 3e-6}: 2 points, ... ``. */
export function sweepText(h: Hypothesis): string {
  const axes = h.sweep ?? [];
  const points = axes.reduce((n, a) => n * a.values.length, 1);
  return axes.map((a) =>
    `${codeSpan(a.path)} ∈ {${a.values.map(valueText).join(", ")}}`
  ).join(" × ") +
    `: ${plural(points, "point")}, each run with every replicate seed`;
}

/**
 * The "Design" table: model, norm, precision, init, noise, objective,
 * batch, steps, schedule, decay, clipping, seeds (and the sweep), from the
 * config `c` the primary run used.
 */
export function designTable(
  h: Hypothesis,
  c: TrainConfig,
  runs: readonly RunRecord[],
  primary: RunRecord | null,
): string {
  const m = c.model;
  const norm = `${NORM_TEXT[m.norm] ?? escapeCell(String(m.norm))}, eps ${
    formatNumber(m.normEps)
  }`;
  const precision = c.precision === "bf16" && c.autocast
    ? "bf16 storage (parameters and AdamW moments rounded to bf16 after every step) plus autocast emulation: every matrix product, forward and backward, takes bf16 operands and returns a bf16 result; parameter gradients are bf16; other activations fp32"
    : c.precision === "bf16"
    ? "bf16 storage: parameters and AdamW moments rounded to bf16 (nearest even) after every step; activations and gradients fp32"
    : c.precision === "bf16-pure"
    ? "pure bf16 (the seeds' `model.to(bfloat16)` under autocast): bf16 storage as above, and every activation and gradient that PyTorch holds in bf16 rounded where its op rounds it; norms, softmax and gelu's cube in fp32; clipping norm bf16"
    : c.precision === "fp32"
    ? "fp32 throughout"
    : escapeCell(String(c.precision));
  const init = c.embeddingInit === "qwen"
    ? "`qwen`: every token-embedding row is the same random unit vector; other weights GPT-2 init"
    : c.embeddingInit === "gpt2"
    ? "`gpt2`: token embedding N(0, 0.02) like the other weights"
    : escapeCell(String(c.embeddingInit));
  const noise = c.noise
    ? `${codeSpan(c.noise.param)} += bf16(randn) × ${
      formatNumber(c.noise.scale)
    } after every optimizer step${
      storesBf16(c.precision) ? ", the sum rounded to bf16" : ""
    } (the scale is the multiplier actually applied to the normal draws)`
    : "none";
  const a = c.adamw;
  const schedule = `AdamW, lr ${
    formatNumber(a.lr)
  } decaying linearly to 0 over ${
    formatInt(c.maxSteps)
  } steps, no warmup; betas (${formatNumber(a.beta1)}, ${
    formatNumber(a.beta2)
  }), eps ${formatNumber(a.eps)}`;
  const decay = `${formatNumber(a.weightDecay)}; ${
    DECAY_TEXT[c.decay] ?? escapeCell(String(c.decay))
  }`;
  const clip = c.clipNorm === null
    ? "none"
    : `global gradient norm ${
      formatNumber(c.clipNorm)
    } (gradients scaled by min(1, ${
      formatNumber(c.clipNorm)
    } / (norm + 1e-6)))`;
  let steps = `maxSteps ${formatInt(c.maxSteps)} (schedule length)`;
  if (primary) {
    steps = `${formatInt(primary.steps)} run of ${formatInt(c.maxSteps)}` +
      (primary.steps < c.maxSteps
        ? ` (${primary.tier} tier: the first ${
          formatInt(primary.steps)
        } steps of the full schedule)`
        : "");
  }
  const seeds = runs.length > 1
    ? [...new Set(runs.map((r) => r.seed))].sort((x, y) => x - y).map(String)
      .join(", ")
    : String(primary?.seed ?? c.seed);
  const declared = h.replicates
    ? ` (replicates declared: ${replicateSeeds(h).join(", ")})`
    : "";
  const model =
    `GPT-2 (HF layout): vocab ${m.vocabSize}, d_model ${m.dModel}, ${m.nLayer} layers, ${m.nHead} heads, context ${m.context}, ${
      m.tiedHead ? "tied" : "untied"
    } output head`;
  return table(["setting", "value"], [
    ["model", model],
    ["norm", norm],
    ["precision", precision],
    ...(c.rounding === "stochastic"
      ? [[
        "rounding",
        "stochastic for the parameters: each stored element becomes the bf16 neighbour away from zero with probability (distance from the one toward zero) / (grid spacing), from 16 bits of its own seeded stream per element and step; the AdamW moments stay nearest-even",
      ]]
      : []),
    ...(m.dropout
      ? [[
        "dropout",
        `HF GPT-2's places: ${
          formatNumber(m.dropout.embd)
        } after the embedding sum, ${
          formatNumber(m.dropout.attn)
        } on the attention probabilities, ${
          formatNumber(m.dropout.resid)
        } after each attn.c_proj and mlp.c_proj; inverted (kept values × 1/(1-p)), masks drawn per step from their own seeded stream`,
      ]]
      : []),
    ["init", init],
    ["noise", noise],
    ["objective", objectiveText(c)],
    ["batch", `${formatInt(c.batchSize)} windows per step`],
    ["seqLen", `${formatInt(c.seqLen)} tokens per window`],
    ["steps", steps],
    ["lr schedule", schedule],
    ["weight decay", decay],
    ["gradient clip", clip],
    ["seed(s)", seeds + declared],
    ...(h.sweep?.length ? [["sweep", sweepText(h)]] : []),
  ]);
}
