// Hypothesis control-layernorm: the smoke tier (default) or, with HORIZON_TIER=full, the
// seeds' full run. Asserts the verdict stated here and the exact numbers
// recorded in reports/data/control-layernorm/outcomes.json (`deno task record`).
import hypothesis from "../hypotheses/control-layernorm.ts";
import { gateHypothesis } from "../src/gate/check.ts";

gateHypothesis(hypothesis, { smoke: "null", full: "null" });
