import assert from "node:assert/strict";
import { distribution, wilson } from "../../verdict/rates.ts";
import {
  distributionText,
  formatDuration,
  formatInt,
  formatNumber,
  rateFraction,
  shortRate,
} from "./format.ts";

Deno.test("number formatters are locale-independent and hand-checkable", () => {
  assert.equal(formatInt(265905), "265,905");
  assert.equal(formatInt(-1000), "-1,000");
  assert.equal(formatInt(999), "999");
  assert.equal(formatNumber(3e-6), "3e-6");
  assert.equal(formatNumber(0.001), "0.001");
  assert.equal(formatNumber(0.999), "0.999");
  assert.equal(formatNumber(1e-8), "1e-8");
  assert.equal(formatDuration(850), "850 ms");
  assert.equal(formatDuration(12_345), "12.3 s");
  assert.equal(formatDuration(59_999), "1 min 00 s");
  assert.equal(formatDuration(245_000), "4 min 05 s");
  assert.equal(formatDuration(3_723_400), "1 h 02 min 03 s");
  assert.equal(formatDuration(-1), "unknown");
});

Deno.test("shortRate() and rateFraction() of edge cases", () => {
  assert.equal(shortRate("null", wilson(0, 0)), "—");
  assert.equal(shortRate("null", wilson(0, 0), 2), "— +2 invalid");
  // wilson(1, 1): low = 1 / (1 + 1.96^2) = 0.2065
  assert.equal(rateFraction(wilson(1, 1)), "1/1 (21–100%)");
});

Deno.test("distributionText() of none, one and several runs", () => {
  assert.equal(distributionText(distribution([])), "—");
  assert.equal(distributionText(distribution([2.5])), "2.5");
  // Sorted 1 2 3 6: median 2.5, quartiles by interpolation 1.75 and 3.75.
  assert.equal(
    distributionText(distribution([6, 3, 2, 1])),
    "2.5 (quartiles 1.75–3.75, range 1–6)",
  );
  assert.equal(
    distributionText(distribution([1000, 3000])),
    "2,000 (quartiles 1,500–2,500, range 1,000–3,000)",
  );
});
