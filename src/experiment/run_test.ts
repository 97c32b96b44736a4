import assert from "node:assert/strict";
import { deadGroups, recordPath } from "./run.ts";
import { verdictOf } from "./verdict.ts";

Deno.test("deadGroups counts the vectors the dead tokens occupy", () => {
  const dead = new Set([1, 2, 3, 4]);
  // One hole holding all dead tokens (and a live one): one group.
  assert.equal(deadGroups([{ tokens: [0, 1, 2, 3, 4] }], dead), 1);
  // Split into two holes: two groups.
  assert.equal(deadGroups([{ tokens: [1, 2] }, { tokens: [3, 4] }], dead), 2);
  // Token 4 escaped to a vector of its own: two groups.
  assert.equal(deadGroups([{ tokens: [1, 2, 3] }], dead), 2);
  // Fully dispersed.
  assert.equal(deadGroups([], dead), 4);
});

Deno.test("the verdict rule of the seeds", () => {
  assert.equal(verdictOf({ C: 1, P: 51 }, 51), "null");
  assert.equal(verdictOf({ C: 2, P: 51 }, 51), "positive");
  assert.equal(verdictOf({ C: 1, P: 50 }, 51), "positive");
  assert.equal(verdictOf({ C: 0, P: 0 }, 51), "positive");
});

Deno.test("record paths are per hypothesis, tier and seed", () => {
  assert.equal(recordPath("/r", "x", "full", 42), "/r/x/full-seed42.json");
  // A shortened run must not overwrite the tier's record.
  assert.equal(
    recordPath("/r", "x", "smoke", 42, 12),
    "/r/x/smoke-seed42-12steps.json",
  );
});

Deno.test("engine fingerprint ignores comments and formatting", async () => {
  const { normaliseSource } = await import("./engine_version.ts");
  const a = "// why\nconst x = f(1, 2); /* note */\n";
  const b = "const x =\n  f(1,\n    2);";
  assert.equal(normaliseSource(a), normaliseSource(b));
  assert.notEqual(normaliseSource(a), normaliseSource("const x = f(1, 3);"));
  // A URL inside a string is not a comment.
  assert.equal(normaliseSource('u = "http://x";'), 'u="http://x";');
});
