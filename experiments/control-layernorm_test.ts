// Runs hypothesis control-layernorm (smoke tier by default; HORIZON_TIER=full for the
// seeds' scale) and asserts its recorded outcome.
import hypothesis from "../hypotheses/control-layernorm.ts";
import { testHypothesis } from "../src/experiment/check.ts";

testHypothesis(hypothesis);
