import assert from "node:assert/strict";
import { formatEta, progressLine } from "./progress.ts";

Deno.test("ETA formatting", () => {
  assert.equal(formatEta(42.4), "42s");
  assert.equal(formatEta(187), "3m07s");
  assert.equal(formatEta(3720), "1h02m");
  assert.equal(formatEta(Infinity), "--");
});

Deno.test("progress line: half done at 10 steps/s", () => {
  // 50 of 100 steps in 5 s: 10 steps/s, 50 left -> 5 s.
  assert.equal(
    progressLine("run", 50, 100, 5000, 2.5, 10),
    "run [#####.....] 50/100 10.0 steps/s ETA 5s loss 2.5000",
  );
});
