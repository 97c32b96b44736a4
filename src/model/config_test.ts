import assert from "node:assert/strict";
import { parameterCount, parameterSpecs, SEED_MODEL } from "./config.ts";

// The seed notebooks print these totals for HF GPT2LMHeadModel.
Deno.test("seed config has the seeds' parameter counts", () => {
  assert.equal(parameterCount(SEED_MODEL), 116_480);
  assert.equal(parameterCount({ ...SEED_MODEL, norm: "rmsnorm" }), 116_160);
});

Deno.test("parameter names follow the HF state dict", () => {
  const names = parameterSpecs(SEED_MODEL).map((p) => p.name);
  assert.ok(names.includes("transformer.h.1.attn.c_attn.weight"));
  assert.ok(names.includes("transformer.h.0.mlp.c_proj.bias"));
  assert.ok(!names.includes("lm_head.weight"), "tied head has no own tensor");
  assert.ok(
    parameterSpecs({ ...SEED_MODEL, tiedHead: false }).some((p) =>
      p.name === "lm_head.weight"
    ),
  );
});

Deno.test("invalid configs are refused with a readable message", () => {
  assert.throws(
    () => parameterSpecs({ ...SEED_MODEL, nHead: 3 }),
    /divisible by model.nHead/,
  );
  assert.throws(() => parameterSpecs({ ...SEED_MODEL, dModel: 0 }), /positive/);
});
