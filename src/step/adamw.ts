/**
 * AdamW as the fused PyTorch kernel computes it, written into the step graph,
 * plus the host-side scalars that change every step (linear LR decay, bias
 * corrections).
 *
 * Per element, in float32, in this order (torch >= 2.8 `_fused_adamw_`):
 *
 *     p  = p - (lr*wd) * p                       (decoupled weight decay)
 *     m  = beta1 * m + (1 - beta1) * g
 *     v  = beta2 * v + (1 - beta2) * (g * g)
 *     p  = p - (step_size * m) / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *
 * with step_size = lr / (1 - beta1^t). Scalars are computed in float64 on the
 * host and enter as float32, as the kernel's double arguments do.
 *
 * @module
 */

import type { Builder } from "../graph/builder.ts";
import type { Value } from "../graph/ir.ts";

/** AdamW hyper-parameters (HF Trainer defaults in {@link HF_ADAMW}). */
export interface AdamWConfig {
  /** Peak learning rate (decayed linearly to 0 over `maxSteps`). */
  readonly lr: number;
  /** Decay rate of the first-moment estimate. */
  readonly beta1: number;
  /** Decay rate of the second-moment estimate. */
  readonly beta2: number;
  /** Added to the root of the second moment in the denominator. */
  readonly eps: number;
  /** Decoupled weight decay coefficient (applied as `lr_t * weightDecay`). */
  readonly weightDecay: number;
}

/** HF TrainingArguments defaults with the seeds' lr and weight decay. */
export const HF_ADAMW: AdamWConfig = Object.freeze({
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
});

/** The per-step scalar inputs of the step graph. */
export interface StepScalars {
  /** lr_t * weight_decay */
  readonly lrWd: number;
  /** lr_t / (1 - beta1^(t+1)) */
  readonly stepSize: number;
  /** sqrt(1 - beta2^(t+1)) */
  readonly bc2Sqrt: number;
  /** lr_t itself, for logs. */
  readonly lr: number;
}

/**
 * Scalars for 0-based step `t` of a run of `maxSteps` steps: HF's linear
 * schedule without warmup, lr_t = lr * (maxSteps - t) / maxSteps.
 */
export function stepScalars(
  cfg: AdamWConfig,
  t: number,
  maxSteps: number,
): StepScalars {
  const lr = cfg.lr * Math.max(0, (maxSteps - t) / maxSteps);
  const count = t + 1;
  return {
    lr,
    lrWd: lr * cfg.weightDecay,
    stepSize: lr / (1 - cfg.beta1 ** count),
    bc2Sqrt: Math.sqrt(1 - cfg.beta2 ** count),
  };
}

/** Graph inputs holding {@link StepScalars}. */
export interface ScalarInputs {
  readonly lrWd: Value;
  readonly stepSize: Value;
  readonly bc2Sqrt: Value;
}

/**
 * The update of parameters `p` with gradient `g`; returns the new p, m, v
 * (before any rounding). `decayMask` (bool) is true where weight decay
 * applies; elsewhere p passes through untouched (a Where rather than a
 * multiply by 0, which would turn -0 into +0).
 */
export function adamwUpdate(
  b: Builder,
  cfg: AdamWConfig,
  s: ScalarInputs,
  state: { p: Value; m: Value; v: Value; g: Value; decayMask: Value },
): { p: Value; m: Value; v: Value } {
  const { m, v, g } = state;
  const p = b.where(
    state.decayMask,
    b.sub(state.p, b.mul(s.lrWd, state.p)),
    state.p,
  );
  const m1 = b.add(
    b.mul(b.scalar(cfg.beta1), m),
    b.mul(b.scalar(1 - cfg.beta1), g),
  );
  const v1 = b.add(
    b.mul(b.scalar(cfg.beta2), v),
    b.mul(b.scalar(1 - cfg.beta2), b.mul(g, g)),
  );
  const denom = b.add(b.div(b.sqrt(v1), s.bc2Sqrt), b.scalar(cfg.eps));
  const p1 = b.sub(p, b.div(b.mul(s.stepSize, m1), denom));
  return { p: p1, m: m1, v: v1 };
}
