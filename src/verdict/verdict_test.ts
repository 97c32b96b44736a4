import assert from "node:assert/strict";
import { verdictOf } from "./verdict.ts";

Deno.test("the verdict rule of the seeds", () => {
  assert.equal(verdictOf({ C: 1, P: 51 }, 51), "null");
  assert.equal(verdictOf({ C: 2, P: 51 }, 51), "positive");
  assert.equal(verdictOf({ C: 1, P: 50 }, 51), "positive");
  assert.equal(verdictOf({ C: 0, P: 0 }, 51), "positive");
});
