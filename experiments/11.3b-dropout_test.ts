// Hypothesis 11.3b-dropout: the smoke tier (default) or, with HORIZON_TIER=full, the
// seeds' full run. Asserts the verdict stated here and the exact numbers
// recorded in reports/data/11.3b-dropout/outcomes.json (`deno task record`).
import hypothesis from "../hypotheses/11.3b-dropout.ts";
import { gateHypothesis } from "../src/gate/check.ts";

gateHypothesis(hypothesis, { smoke: "null", full: "null" });
