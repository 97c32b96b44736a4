import assert from "node:assert/strict";
import { recordPath } from "./records.ts";
import { deadGroups } from "./run.ts";
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

Deno.test("record paths carry tier, seed and backend; shortened and variant runs never replace the tier's record", () => {
  const n = { hypothesisId: "x", tier: "full" as const, seed: 42 };
  assert.equal(
    recordPath("/r", { ...n, backend: "cpu" }),
    "/r/x/full-seed42-cpu.json",
  );
  // cpu and wasm records of one run live side by side.
  assert.equal(
    recordPath("/r", { ...n, backend: "wasm" }),
    "/r/x/full-seed42-wasm.json",
  );
  assert.equal(
    recordPath("/r", { ...n, tier: "smoke", backend: "cpu", steps: 12 }),
    "/r/x/smoke-seed42-cpu-12steps.json",
  );
  assert.equal(
    recordPath("/r", { ...n, backend: "cpu", variant: "0badcafe" }),
    "/r/x/full-seed42-cpu-0badcafe.json",
  );
});
