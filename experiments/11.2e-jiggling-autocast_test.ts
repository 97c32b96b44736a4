// Runs hypothesis 11.2e-jiggling-autocast (smoke tier by default;
// HORIZON_TIER=full for the seeds' scale) and asserts its recorded outcome.
import hypothesis from "../hypotheses/11.2e-jiggling-autocast.ts";
import { testHypothesis } from "../src/experiment/check.ts";

testHypothesis(hypothesis);
