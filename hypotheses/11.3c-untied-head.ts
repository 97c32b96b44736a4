import type { Hypothesis } from "../src/hypothesis/types.ts";
import { SEED_RUN } from "../src/step/config.ts";

/** Issue 20, item 3: does an untied output head change the black hole? */
const hypothesis: Hypothesis = {
  id: "11.3c-untied-head",
  title: "An untied output head freezes the black hole where it started",
  question:
    "Many real models (GPT-J, Llama, Qwen2.5 from 7B up) do not tie the output head to the token embedding. With an untied head, do the dead tokens' embedding rows stay bit-identical, and does their shared vector still move?",
  background: `In the control the dead rows of \`transformer.wte.weight\` are
trained only through the tied head: every step pushes their logits down, with
the same gradient for every dead row, so the shared vector travels (centroid
displacement about 0.5 over 10,000 steps) but stays whole. With an untied head
(\`lm_head.weight\`, its own [128, 64] matrix, HF \`tie_word_embeddings:
false\`) that path is gone: an input-embedding row receives gradient only from
the positions where its token is an input, and a dead token never is. What is
left is AdamW's decoupled weight decay, which multiplies every row by the same
factor. The question is whether anything else in real training arithmetic
reaches those rows.`,
  design: `The control (seed architecture, LayerNorm, bf16 storage, Qwen init,
HF Trainer AdamW defaults, clip 1.0, double-shifted objective) with
\`model.tiedHead: false\`. The head is an extra [128, 64] parameter,
initialised as HF initialises an untied \`nn.Linear\` head: N(0, 0.02) per
element, drawn from the init stream after every other parameter (so the Qwen
direction of \`wte\` is a different random unit vector than in the control),
rounded to bf16, and weight-decayed like every other matrix. The analysis reads
the input embedding \`transformer.wte.weight\`, as in every hypothesis; the
head's rows are not analysed.`,
  config: {
    ...SEED_RUN,
    model: { ...SEED_RUN.model, tiedHead: false },
  },
  expectation: {
    verdict: "null",
    reasoning:
      "Prediction written before any run (seed 42 included). A dead row's gradient is exactly 0: the embedding lookup's backward is a one-hot product, and a dead token's column of the one-hot matrix is all zeros. So its AdamW moments stay 0 and its Adam step is 0; the only change is decoupled weight decay, p - lr*wd*p, applied identically to identical rows. In bf16 storage that change is at most lr*wd = 1e-5 of the value, far below half a bf16 ulp (at least 2^-9 of it), so the rounding returns the old value: the dead rows should be frozen, bit for bit, at the bf16-rounded initial unit vector for all 10,000 steps (C = 1, P = 51 once every live token has occurred as an input, i.e. from step ~40 as in the control; centroid norm constant and displacement exactly 0, against about 0.5 in the control). Null in every one of the 8 seeds (rate 1), since nothing in the argument depends on the seed. The head's dead rows, not analysed here: they start as independent random draws and receive non-zero, row-dependent gradients (each row's own softmax probability times the hidden states), so I expect them never to coincide bit-for-bit, but to drift together along the common direction that pushes all dead logits down.",
    rate: { verdict: "null", atLeast: 1 },
  },
  smoke: {
    steps: 300,
    justification:
      "The live tokens leave the shared vector within the first ~40 steps (their first occurrence as an input); after that the dead rows can only change by weight decay, whose effect bf16 rounds away at any step, and 300 steps cover the largest learning rates of the schedule.",
  },
  replicates: {
    count: 8,
    smoke: {
      seeds: [42],
      why:
        "The dead rows' gradient is exactly zero in every seed, so one seed at 300 steps checks the arithmetic; the rate over 8 seeds is a full-tier claim.",
    },
  },
  control: "control-layernorm",
  findings: `**Null in all 8 declared seeds, as predicted (full tier, cpu;
null in 8/8, 95% CI 68-100%).** With an untied head the dead rows of
\`wte\` never separate: a row moves only when its token is an input.

Seed 42, 10,000 steps, cpu: C = 1, P = 51 at the end, and the dead rows never
separate at any recorded step. From step 1 every token not yet seen as an input
stays in the one shared vector (C = 1, P = 63 at step 1), which loses members
as live tokens first occur (54 at step 3, 51 from step 40) and then holds all
51 dead tokens, unchanged, to step 10,000. The control's rows instead scatter
for a few steps (up to 9 clusters) before re-merging into the same hole by step
40. Mean loss over the last 100 steps 2.243 against the control's 2.240. The
smoke tier (300 steps) showed more than the record keeps: the 51 dead rows of
\`wte\` were bit-identical to their initial bf16 unit vector at all 301
recorded steps, where the control's shared vector moved 0.53 (Euclidean); the
report's centroid is the mean of all 128 rows, so its displacement is not the
dead vector's. A side check outside the records (the smoke run retrained, its
head read at step 300): the head's 51 dead rows are all distinct and drift
together (their mean moved 0.51, spread 0.156 to 0.123, mean cosine to the mean
0.97).

Replicates (full tier, cpu): seed 1 ends null too (C = 1, P = 51, all 51 dead
tokens in one vector from step 23 to 10,000; mean loss over the last 100
steps 2.265); at steps 1 to 3 a
second vector was shared (C = 2), gone by step 5. Seed 2 the same: one shared
vector of all 51 dead tokens from step 22 (C = 2 at step 1 only; mean loss
over the last 100 steps 2.268). Seeds 3 and 4 too: all 51 dead tokens in one
vector from step 42 and step 13 to 10,000 (seed 4 with C = 2 at step 1; mean
losses 2.242 and 2.238). Seeds 5 and 6 too, from step 19 and step 20 (seed 6
with C = 2 at step 1; mean losses 2.267 and 2.245), and seed 7 from step 12
(C = 3 at step 1; mean loss 2.275). The only other shared vectors appear in
the first steps (C = 2 or 3 at step 1 in five seeds), gone by step 5: rows of
tokens that had just occurred as inputs (a row that differs from the hole must
have had a gradient, which only an input occurrence gives it). The dead rows
never separate.`,
};

export default hypothesis;
