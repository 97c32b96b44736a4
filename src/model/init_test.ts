import assert from "node:assert/strict";
import { SEED_MODEL } from "./config.ts";
import { initParameters } from "./init.ts";

// HF's GPT2PreTrainedModel._init_weights gives an untied head (an
// nn.Linear) N(0, initializer_range = 0.02), like every other weight matrix;
// the Qwen init collapses only the input embedding.
Deno.test("an untied head starts as N(0, 0.02) draws, after every other parameter, and is not collapsed by the Qwen init", () => {
  const model = { ...SEED_MODEL, tiedHead: false };
  let draws = 0;
  const counting = { normal: () => (++draws % 7) - 3 }; // -2..3, varied
  const p = initParameters(model, counting, { embedding: "qwen" });
  const head = p.get("lm_head.weight")!;
  assert.equal(head.length, 128 * 64);
  // Draws before the head: wte, wpe and the Conv1D weights (not the norms
  // or biases); the head takes the next 8192; the Qwen direction the 64 after.
  const before = 128 * 64 + 128 * 64 +
    2 * (64 * 192 + 64 * 64 + 64 * 256 + 256 * 64);
  for (let i = 0; i < head.length; i++) {
    assert.equal(head[i], Math.fround(0.02 * (((before + i + 1) % 7) - 3)));
  }
  assert.equal(draws, before + head.length + 64);
  // The head's rows stay distinct; wte's rows are one vector.
  const wte = p.get("transformer.wte.weight")!;
  assert.deepEqual(wte.subarray(0, 64), wte.subarray(64, 128));
  assert.notDeepEqual(head.subarray(0, 64), head.subarray(64, 128));
});
