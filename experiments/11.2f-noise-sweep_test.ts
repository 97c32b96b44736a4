// Hypothesis 11.2f-noise-sweep: its own point (noise 3e-7) at the smoke tier
// (default) or, with HORIZON_TIER=full, every seed at every sweep point.
// Asserts the verdict stated here and the exact numbers recorded in
// reports/data/11.2f-noise-sweep/outcomes.json (`deno task record`).
import hypothesis from "../hypotheses/11.2f-noise-sweep.ts";
import { gateHypothesis } from "../src/gate/check.ts";

gateHypothesis(hypothesis, { smoke: "positive", full: "null" });
