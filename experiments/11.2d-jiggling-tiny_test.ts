// Runs hypothesis 11.2d-jiggling-tiny (smoke tier by default; HORIZON_TIER=full for the
// seeds' scale) and asserts its recorded outcome.
import hypothesis from "../hypotheses/11.2d-jiggling-tiny.ts";
import { testHypothesis } from "../src/experiment/check.ts";

testHypothesis(hypothesis);
