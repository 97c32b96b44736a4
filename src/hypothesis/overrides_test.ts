import assert from "node:assert/strict";
import { SEED_RUN } from "../step/config.ts";
import { applyOverrides, overrideText, parseOverride } from "./overrides.ts";

Deno.test("parseOverride reads numbers strictly, booleans, null and words", () => {
  assert.deepEqual(parseOverride("adamw.lr=3e-4"), {
    path: "adamw.lr",
    value: 3e-4,
  });
  assert.deepEqual(parseOverride("adamw.beta1=0.9"), {
    path: "adamw.beta1",
    value: 0.9,
  });
  assert.deepEqual(parseOverride("adamw.lr=-1"), {
    path: "adamw.lr",
    value: -1,
  });
  assert.deepEqual(parseOverride("autocast=true"), {
    path: "autocast",
    value: true,
  });
  assert.deepEqual(parseOverride("clipNorm=null"), {
    path: "clipNorm",
    value: null,
  });
  assert.deepEqual(parseOverride("model.norm=rmsnorm"), {
    path: "model.norm",
    value: "rmsnorm",
  });
  // NaN and Infinity are words, and validation refuses them in number fields.
  for (
    const bad of [
      "=1",
      "adamw.lr",
      "adamw..lr=1",
      "adamw.lr= 1",
      "adamw.lr=0x10",
      "adamw.lr=1e400",
      "a.b=x y",
    ]
  ) {
    assert.throws(() => parseOverride(bad), /config: /, bad);
  }
  assert.equal(overrideText(parseOverride("adamw.lr=1e6")), "adamw.lr=1000000");
});

Deno.test("applyOverrides changes exactly the named fields and validates the result", () => {
  const c = applyOverrides(SEED_RUN, [
    parseOverride("adamw.lr=3e-4"),
    parseOverride("seed=7"),
  ]);
  assert.equal(c.adamw.lr, 3e-4);
  assert.equal(c.seed, 7);
  assert.deepEqual({ ...c, adamw: SEED_RUN.adamw, seed: 42 }, SEED_RUN);
  assert.equal(SEED_RUN.adamw.lr, 1e-3, "the input is not modified");

  // noise.scale on a run without noise turns noise on for the embedding.
  assert.deepEqual(
    applyOverrides(SEED_RUN, [parseOverride("noise.scale=1e-7")]).noise,
    { param: "transformer.wte.weight", scale: 1e-7 },
  );
  assert.equal(
    applyOverrides(SEED_RUN, [parseOverride("autocast=true")]).autocast,
    true,
  );
  assert.throws(
    () => applyOverrides(SEED_RUN, [parseOverride("adamw.Lr=1")]),
    /config: adamw\.Lr is not a config field/,
  );
  assert.throws(
    () => applyOverrides(SEED_RUN, [parseOverride("batchSize.x=1")]),
    /config: batchSize is not an object/,
  );
  assert.throws(
    () => applyOverrides(SEED_RUN, [parseOverride("adamw.lr=-1e-3")]),
    /config: adamw\.lr must be >= 0/,
  );
  assert.throws(
    () => applyOverrides(SEED_RUN, [parseOverride("adamw.lr=NaN")]),
    /config: adamw\.lr must be a finite number, got "NaN"/,
  );
  assert.throws(
    () => applyOverrides(SEED_RUN, [parseOverride("decay=nope")]),
    /decay must be one of/,
  );
});
