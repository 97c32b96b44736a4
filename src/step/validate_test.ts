import assert from "node:assert/strict";
import { SEED_RUN, type TrainConfig } from "./config.ts";
import { ConfigError, validateTrainConfig } from "./validate.ts";
import { MAX_TRAINING_MEMORY_BYTES, trainingMemoryBytes } from "./memory.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

function refuses(change: (c: Loose) => void, message: RegExp): void {
  const c: Loose = structuredClone(SEED_RUN);
  change(c);
  assert.throws(() => validateTrainConfig(c), (e: Error) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.message, message);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("the seeds' config and its documented variations are valid", () => {
  validateTrainConfig(SEED_RUN);
  const ok: TrainConfig[] = [
    { ...SEED_RUN, clipNorm: null },
    { ...SEED_RUN, precision: "fp32", autocast: false },
    { ...SEED_RUN, precision: "bf16-pure" },
    { ...SEED_RUN, noise: { param: "transformer.wte.weight", scale: 0 } },
    { ...SEED_RUN, adamw: { ...SEED_RUN.adamw, lr: 0, beta1: 0 } },
  ];
  for (const c of ok) validateTrainConfig(c);
});

Deno.test("every field is range-checked with a one-line error naming it", () => {
  refuses(
    (c) => (c.adamw.lr = -1e-3),
    /^config: adamw\.lr must be >= 0, got -0\.001$/,
  );
  refuses(
    (c) => (c.adamw.lr = NaN),
    /adamw\.lr must be a finite number, got NaN/,
  );
  refuses((c) => (c.adamw.lr = Infinity), /adamw\.lr must be a finite number/);
  refuses(
    (c) => (c.adamw.beta1 = 2),
    /adamw\.beta1 must be in \[0, 1\), got 2/,
  );
  refuses((c) => (c.adamw.beta2 = 1), /adamw\.beta2 must be in \[0, 1\)/);
  refuses((c) => (c.adamw.eps = 0), /adamw\.eps must be > 0/);
  refuses(
    (c) => (c.adamw.weightDecay = -100),
    /adamw\.weightDecay must be >= 0/,
  );
  refuses(
    (c) => (c.decay = "nope"),
    /decay must be one of "hf-trainer", "matrices-only", got "nope"/,
  );
  refuses((c) => (c.precision = "bf8"), /precision must be one of/);
  refuses((c) => (c.objective = 3), /objective must be one of .*got 3/);
  refuses((c) => (c.embeddingInit = "zero"), /embeddingInit must be one of/);
  refuses((c) => (c.model.norm = "batchnorm"), /model\.norm must be one of/);
  refuses((c) => (c.model.normEps = 0), /model\.normEps must be > 0/);
  refuses(
    (c) => (c.model.nHead = 3),
    /model\.nHead \(3\) must divide model\.dModel \(64\)/,
  );
  refuses(
    (c) => (c.model.vocabSize = 1000),
    /model\.vocabSize must be in 1\.\.256/,
  );
  refuses(
    (c) => (c.model.tiedHead = "yes"),
    /model\.tiedHead must be true or false/,
  );
  refuses((c) => (c.seqLen = 129), /seqLen must be in 1\.\.128, got 129/);
  refuses((c) => (c.batchSize = 0), /batchSize must be >= 1/);
  refuses((c) => (c.maxSteps = 1.5), /maxSteps must be an integer, got 1\.5/);
  refuses((c) => (c.seed = -1), /seed must be >= 0/);
  refuses((c) => (c.seed = 1e300), /seed must be an integer/);
  refuses(
    (c) => (c.clipNorm = 0),
    /clipNorm must be > 0 \(or null: no clipping\)/,
  );
  refuses(
    (c) => (c.noise = { param: "transformer.wte.weight", scale: -1 }),
    /noise\.scale must be >= 0/,
  );
  refuses(
    (c) => (c.noise = { param: "wte", scale: 1e-6 }),
    /noise\.param must name a parameter/,
  );
  refuses((c) => (c.noise = { scale: 1e-6 }), /noise\.param is missing/);
  refuses((c) => (c.autocast = 1), /autocast must be true or false/);
  refuses(
    (c) => {
      c.precision = "bf16-pure";
      c.autocast = true;
    },
    /^config: autocast needs precision "bf16" \(bf16-pure already includes it\), got "bf16-pure"$/,
  );
});

Deno.test("unknown and missing fields are refused (a typo never trains as the default)", () => {
  refuses(
    (c) => (c.adamw.Lr = 1),
    /adamw\.Lr is not a config field \(adamw has: lr, beta1/,
  );
  refuses((c) => (c.learningRate = 1), /learningRate is not a config field/);
  refuses((c) => delete c.decay, /^config: decay is missing$/);
  refuses((c) => (c.adamw = null), /adamw must be an object, got null/);
});

Deno.test("-0 is refused wherever a number goes: it would key a second run of the same config", () => {
  for (
    const bad of [
      { ...SEED_RUN, adamw: { ...SEED_RUN.adamw, lr: -0 } },
      { ...SEED_RUN, adamw: { ...SEED_RUN.adamw, weightDecay: -0 } },
      { ...SEED_RUN, noise: { param: "transformer.wte.weight", scale: -0 } },
      { ...SEED_RUN, seed: -0 },
    ]
  ) {
    assert.throws(
      () => validateTrainConfig(bad),
      (e: unknown) =>
        e instanceof ConfigError && /is -0: write 0/.test(e.message),
    );
  }
  validateTrainConfig({ ...SEED_RUN, adamw: { ...SEED_RUN.adamw, lr: 0 } });
});

Deno.test("sizes that would not fit in memory are refused naming the estimate and the limit", () => {
  // `--set batchSize=20000` was OOM-killed silently at ~22 GB.
  assert.throws(
    () => validateTrainConfig({ ...SEED_RUN, batchSize: 20_000 }),
    (e: unknown) =>
      e instanceof ConfigError && e.path === "batchSize" &&
      /batchSize 20000, seqLen 128, .* would need about \d+(\.\d+)? GiB to train; the limit is 16\.0 GiB/
        .test(e.message) &&
      !e.message.includes("\n"),
  );
  assert.throws(
    () =>
      validateTrainConfig({
        ...SEED_RUN,
        model: { ...SEED_RUN.model, dModel: 1 << 16, nHead: 1 },
      }),
    (e: unknown) =>
      e instanceof ConfigError && e.path === "model.dModel" &&
      /the limit is 16\.0 GiB/.test(e.message),
  );
  // A billion layers is refused at once, before its parameters are listed.
  const t0 = performance.now();
  assert.throws(
    () =>
      validateTrainConfig({
        ...SEED_RUN,
        model: { ...SEED_RUN.model, nLayer: 1e9 },
        noise: { param: "transformer.wte.weight", scale: 1e-7 },
      }),
    /too large/,
  );
  assert.ok(performance.now() - t0 < 1000);
  assert.ok(trainingMemoryBytes(SEED_RUN) < MAX_TRAINING_MEMORY_BYTES / 50);
  validateTrainConfig({ ...SEED_RUN, batchSize: 1024 });
});

Deno.test("rounding: stochastic on bf16 storage only, any other value one line", () => {
  validateTrainConfig({ ...SEED_RUN, rounding: "stochastic" });
  validateTrainConfig({
    ...SEED_RUN,
    precision: "bf16-pure",
    rounding: "stochastic",
  });
  refuses(
    (c) => (c.rounding = "nearest"),
    /^config: rounding must be "stochastic" \(omit it for round-to-nearest-even\), got "nearest"$/,
  );
  refuses(
    (c) => (c.rounding = true),
    /rounding must be "stochastic".*got boolean$/,
  );
  refuses(
    (c) => {
      c.precision = "fp32";
      c.rounding = "stochastic";
    },
    /^config: rounding "stochastic" needs a precision that stores bf16 \("bf16" or "bf16-pure"\); fp32 stores float32 values and rounds nothing$/,
  );
});

Deno.test("model.dropout: probabilities in [0, 1) with float32 activations, anything else one line", () => {
  const dropout = { embd: 0.1, attn: 0.1, resid: 0.1 };
  validateTrainConfig({ ...SEED_RUN, model: { ...SEED_RUN.model, dropout } });
  validateTrainConfig({
    ...SEED_RUN,
    precision: "fp32",
    model: { ...SEED_RUN.model, dropout: { embd: 0, attn: 0, resid: 0.5 } },
  });
  const set = (c: Loose, d: unknown) => (c.model.dropout = d);
  refuses(
    (c) => set(c, { ...dropout, attn: 1 }),
    /^config: model\.dropout\.attn must be in \[0, 1\), got 1$/,
  );
  refuses(
    (c) => set(c, { ...dropout, embd: -0.1 }),
    /^config: model\.dropout\.embd must be in \[0, 1\), got -0\.1$/,
  );
  refuses(
    (c) => set(c, { ...dropout, resid: "0.1" }),
    /^config: model\.dropout\.resid must be a finite number, got "0\.1"$/,
  );
  refuses(
    (c) => set(c, { embd: 0.1, attn: 0.1 }),
    /^config: model\.dropout\.resid is missing$/,
  );
  refuses(
    (c) => set(c, { ...dropout, mlp: 0.1 }),
    /^config: model\.dropout\.mlp is not a config field/,
  );
  refuses(
    (c) => set(c, 0.1),
    /^config: model\.dropout must be an object, got 0\.1$/,
  );
  refuses(
    (c) => {
      set(c, dropout);
      c.precision = "bf16-pure";
    },
    /^config: model\.dropout needs precision "bf16" or "fp32" \(float32 activations\), got "bf16-pure"$/,
  );
  refuses(
    (c) => {
      set(c, dropout);
      c.autocast = true;
    },
    /^config: model\.dropout cannot be combined with autocast/,
  );
  // Dropout's masks count towards the memory bound.
  const on = { ...SEED_RUN, model: { ...SEED_RUN.model, dropout } };
  assert.ok(trainingMemoryBytes(on) > trainingMemoryBytes(SEED_RUN));
});
