import assert from "node:assert/strict";
import { SEED_RUN } from "../step/config.ts";
import { configDiff, flattenConfig } from "./config_paths.ts";
import { JIGGLE_CONFIG } from "../testing/records.ts";

Deno.test("configDiff() lists exactly the paths that differ", () => {
  const a = {
    ...JIGGLE_CONFIG,
    model: { ...JIGGLE_CONFIG.model, norm: "rmsnorm" as const },
    adamw: { ...JIGGLE_CONFIG.adamw, lr: 3e-4 },
    autocast: true,
  };
  assert.deepEqual(configDiff(a, SEED_RUN), [
    { path: "model.norm", a: "rmsnorm", b: "layernorm" },
    { path: "adamw.lr", a: 3e-4, b: 1e-3 },
    { path: "noise", a: { param: "wte", scale: 3e-6 }, b: null },
    { path: "autocast", a: true, b: undefined },
  ]);
  assert.deepEqual(configDiff(SEED_RUN, { ...SEED_RUN }), []);
  // Only b has a path: it comes last, absent on a's side.
  assert.deepEqual(configDiff({ x: 1 }, { x: 1, y: { z: 2 } }), [
    { path: "y", a: undefined, b: { z: 2 } },
  ]);
  const flat = flattenConfig(JIGGLE_CONFIG);
  assert.equal(flat.get("noise.scale"), 3e-6);
  assert.equal(flat.get("model.norm"), "layernorm");
  assert.ok(!flat.has("model"));
});
