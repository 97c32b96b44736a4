import type { Hypothesis } from "../src/hypothesis/types.ts";
import { SEED_RUN } from "../src/step/config.ts";

/** New: does storage precision decide what the noise does? */
const hypothesis: Hypothesis = {
  id: "11.2c-jiggling-fp32",
  title: "The same noise in float32 storage disperses every dead token",
  question:
    "Is bf16 storage what limits 11.2b's fragmentation? With parameters and moments kept in float32, does the same 3e-6 noise scatter the black hole completely?",
  background:
    `In 11.2b the noise survives only where the bf16 grid is finer than
the noise, i.e. near zero, so the split depends on rare zero crossings. In
float32 the grid at 0.1 is about 7e-9, far finer than 3e-6: every component of
every row moves independently at every step.`,
  design: `11.2b with \`precision: fp32\`: no rounding of parameters, moments or
noise (noise = randn * 3e-6 in float32). Everything else identical, including
the noise stream.`,
  config: {
    ...SEED_RUN,
    precision: "fp32",
    noise: { param: "transformer.wte.weight", scale: 3e-6 },
  },
  findings: `**Positive, as predicted: complete and immediate dispersal.** After
the very first noise injection every one of the 128 rows is distinct (C = 0,
P = 0 at step 1), and no two rows ever coincide again in 10,000 steps. In
float32 the noise survives on every component of every row, so a collision
would need 64 independent coincidences. Set against 11.2b (same noise, same
stream, bf16 storage: 6 clusters holding 48 of the 51 dead tokens), this shows
that storage precision decides the outcome: bf16 rounding both limits where the
noise can act (near zero) and re-merges rows whose differences it rounds away.
A side observation: fp32 storage also trains better on this corpus (mean loss
over the last 100 steps 2.03 against 2.24 for the bf16 runs).
Replicates (all 8 declared seeds at the full tier): seeds 1 to 7 do exactly
the same, every row distinct from step 1 to 10,000 (C = 0, P = 0; mean loss
over the last 100 steps 2.03, 2.01, 2.02, 2.04, 2.04, 2.02 and 2.07): positive
in 8/8 (95% Wilson interval 68-100%), meeting the predicted rate of at least
80%.`,
  expectation: {
    verdict: "positive",
    reasoning:
      "Prediction before running: complete dispersal from the first step, C = 0 and P = 0 (no two dead rows share a vector), because independent noise on 64 components makes a collision impossible in float32. Over 8 seeds (added 2026-12-01, after seed 42's run and before any other seed ran): positive in at least 80% of them.",
    rate: { verdict: "positive", atLeast: 0.8 },
  },
  smoke: {
    steps: 300,
    justification:
      "The first noise injection already separates all rows in float32; 300 steps check that they do not re-merge.",
  },
  replicates: {
    count: 8,
    smoke: {
      seeds: [42],
      why:
        "Seed 42's 300 steps check the float32 path and that the rows stay apart; the rate is decided at the full tier (one smoke seed keeps CI short).",
    },
  },
};

export default hypothesis;
