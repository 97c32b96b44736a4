import type { Hypothesis } from "../src/hypothesis/types.ts";
import { SEED_RUN } from "../src/step/config.ts";

/** The baseline every other hypothesis is read against. */
const hypothesis: Hypothesis = {
  id: "control-layernorm",
  title: "Control: GPT-2 with LayerNorm keeps its black hole intact",
  question:
    "With Qwen init and no perturbation, do the tokens that never occur in the corpus stay bit-identical for the whole run?",
  background:
    `Under "Qwen init" every row of the token embedding starts as the same
unit vector. A token that never occurs in the corpus is never an input, so its
row only receives gradient through the tied output head, where every dead
token's logit is the same number: identical rows get identical gradients,
identical AdamW moments and identical updates. The symmetry argument says the
dead rows can never separate. This run checks that the trainer really
preserves it, bit for bit, through 10,000 bf16 AdamW steps.`,
  design: `Seed architecture (vocab 128, d 64, 2 layers, 2 heads, context 128,
tied head), LayerNorm, bf16 storage of parameters and moments, HF Trainer
defaults (AdamW, lr 1e-3 decaying linearly to 0 over 10,000 steps, weight
decay 0.01, clip 1.0), the seeds' double-shifted objective. Nothing is added
after the optimizer step.`,
  config: SEED_RUN,
  expectation: {
    verdict: "null",
    reasoning:
      "Exact symmetry: identical rows see identical arithmetic on every backend, so C = 1 and P = 51 (the corpus's dead tokens) at every step once the live tokens have left the initial cluster. Over 8 seeds (stated before any replicate ran): null in every one, since the argument does not depend on the seed.",
    rate: { verdict: "null", atLeast: 1 },
  },
  replicates: {
    count: 8,
    smoke: {
      seeds: [42],
      why:
        "Without noise the dead rows' symmetry is exact in every seed, so one seed at 300 steps checks the arithmetic; the rate over 8 seeds is a full-tier claim.",
    },
  },
  smoke: {
    steps: 300,
    justification:
      "All 77 live tokens leave the shared vector within the first ~40 steps; after that the only way to change C or P is for the dead rows to separate, which the symmetry forbids at any step. 300 steps (a prefix of the full run, same LR schedule) exercise the high-LR phase where updates are largest.",
  },
  findings: `**Null in all 8 declared seeds (full tier, cpu; 95% CI 68-100%),
as predicted and as in the seeds.** In every seed the 51 dead tokens share one
bit-identical vector and nothing else does (C = 1, P = 51) from a step between
13 and 42 (seed 42: 40) through all 10,000 steps; the symmetry held at every
recorded step of every seed. Before that step P is larger because some live
tokens still sit on the initial vector until their first occurrence in a
batch. The shared vector moves: in seed 42 its centroid norm falls from 0.999
at initialisation to 0.784 by step 1,000 and settles at 0.769, a displacement
of 0.508 from step 0 (weight decay and the head's gradient pull all dead rows
together); over the 8 seeds the final norm is 0.721-0.788 and the
displacement 0.479-0.545.`,
  seedResult: {
    C: 1,
    P: 51,
    populations: [51],
    source: "seed 11.2a, control row of its design (GPT-2 with LayerNorm)",
  },
};

export default hypothesis;
