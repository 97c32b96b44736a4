// Hypothesis 11.3a-stochastic-rounding: the smoke tier (default) or, with HORIZON_TIER=full, the
// seeds' full run. Asserts the verdict stated here and the exact numbers
// recorded in reports/data/11.3a-stochastic-rounding/outcomes.json (`deno task record`).
import hypothesis from "../hypotheses/11.3a-stochastic-rounding.ts";
import { gateHypothesis } from "../src/gate/check.ts";

gateHypothesis(hypothesis, { smoke: "positive", full: "positive" });
