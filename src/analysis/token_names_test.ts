import assert from "node:assert/strict";
import { describeToken } from "./token_names.ts";

Deno.test("describeToken() labels byte tokens", () => {
  assert.equal(describeToken(97), "'a'");
  assert.equal(describeToken(32), "' '");
  assert.equal(describeToken(39), "'\\''");
  assert.equal(describeToken(92), "'\\\\'");
  assert.equal(describeToken(10), "\\n");
  assert.equal(describeToken(9), "\\t");
  assert.equal(describeToken(13), "\\r");
  assert.equal(describeToken(0), "\\x00");
  assert.equal(describeToken(27), "\\x1b");
  assert.equal(describeToken(127), "DEL");
  assert.equal(describeToken(200), "\\xc8");
  assert.throws(() => describeToken(256), RangeError);
});
