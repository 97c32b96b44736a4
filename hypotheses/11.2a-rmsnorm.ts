import type { Hypothesis } from "../src/hypothesis/types.ts";
import { SEED_RUN } from "../src/step/config.ts";

/** Seed notebook 11.2a: does RMSNorm break the black hole? */
const hypothesis: Hypothesis = {
  id: "11.2a-rmsnorm",
  title: "RMSNorm instead of LayerNorm does not diffuse the black hole",
  question:
    "Qwen models normalise with RMSNorm (no mean subtraction). Does replacing GPT-2's LayerNorm with RMSNorm make the dead tokens' shared vector break apart during training?",
  background: `Long LayerNorm runs never fragmented the black hole, yet the
embedding matrices of Qwen models hold many small clusters of identical rows.
RMSNorm is one architectural difference between the two families: it rescales
by the root mean square without centring, which changes the gradient that
reaches the residual stream. If the gradient dynamics alone could split
identical rows, RMSNorm would be a candidate.`,
  design: `As the control, with every LayerNorm (ln_1, ln_2 of both blocks and
ln_f) replaced by a weight-only RMSNorm with the same eps (1e-5), computed in
float32. Note a detail of the seed that the notebook hides: HF's Trainer
exempts only \`nn.LayerNorm\` modules and bias-like names from weight decay, so
the custom RMSNorm weights *are* decayed (policy \`hf-trainer\`).`,
  config: { ...SEED_RUN, model: { ...SEED_RUN.model, norm: "rmsnorm" } },
  expectation: {
    verdict: "null",
    reasoning:
      "The symmetry argument does not depend on the normalisation: dead rows enter the network only through the tied head, where they stay interchangeable whatever the norm. Expected C = 1, P = 51, as in the seed. Over 8 seeds (stated before any replicate ran): null in every one, since the symmetry argument does not depend on the seed.",
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
      "Same argument as the control: after the live tokens leave (~40 steps) a change in C or P would need a symmetry violation, which would show at any step; 300 steps cover the largest updates of the schedule.",
  },
  findings: `**Null in all 8 declared seeds (full tier, cpu; 95% CI 68-100%),
reproducing the seed exactly: C = 1, P = 51 in every seed.** With RMSNorm
(and, as in the seed, decayed RMSNorm weights) the 51 dead tokens share one
bit-identical vector from a step between 12 and 42 (seed 42: 40) to step
10,000, and no live token joins them. The shared vector travels further than
under LayerNorm, in every seed: centroid displacement 0.526-0.614 against the
control's 0.479-0.545, larger by 0.04 to 0.11 per seed (seed 42: 0.614 against
0.508; final centroid norm 0.748 against 0.769; the seed printed 0.809 and
0.527 on its own corpus). So RMSNorm changes where the black hole goes, not
whether it stays whole: the symmetry argument holds for any normalisation.`,
  seedResult: {
    C: 1,
    P: 51,
    populations: [51],
    source: "seed 11.2a (their corpus; 51 dead tokens)",
  },
};

export default hypothesis;
