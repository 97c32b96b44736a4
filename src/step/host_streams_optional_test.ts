// The optional per-step streams of HostStreams (stochastic-rounding uniforms,
// dropout masks), one table row each: each comes from its own PCG32 stream,
// so switching it on leaves every other host input as it was; its values
// follow its rule, checked here against the raw generator (and against an
// independent Python PCG32 in reference_dropout_test.ts and
// stochastic_rounding_reference_test.ts); it resumes from a snapshot; it is
// part of the digest only when it is on.

import assert from "node:assert/strict";
import { SEED_RUN, type TrainConfig } from "./config.ts";
import {
  type HostStep,
  HostStreams,
  hostStreamsDigest,
  initialParameters,
} from "./host_streams.ts";
import { Pcg32, Stream } from "../data/rng.ts";

const CORPUS = 100_000;
// Small batches keep the dropout masks small: 2 x 8 tokens.
const NOISY: TrainConfig = {
  ...SEED_RUN,
  batchSize: 2,
  seqLen: 8,
  noise: { param: "transformer.wte.weight", scale: 3e-6 },
};
const PARAMS = 116_480; // the seeds' model, LayerNorm (tools/reference/README.md)
const DROPOUT = { embd: 0.1, attn: 0.5, resid: 0 };

interface Case {
  readonly field: "rounding" | "dropout";
  /** NOISY with the mode on. */
  readonly on: TrainConfig;
  /** The same mode with other settings: other values from the same bits. */
  readonly other?: TrainConfig;
  /** One step's values by the mode's rule, from the raw generator. */
  readonly expected: (rng: Pcg32) => number[];
  /** How a resume without the stream is refused. */
  readonly missing: RegExp;
}

const CASES: readonly Case[] = [
  {
    field: "rounding",
    on: { ...NOISY, rounding: "stochastic" },
    // One uniform per parameter: the top 16 bits / 2^16.
    expected: (rng) =>
      Array.from({ length: PARAMS }, () => (rng.nextUint32() >>> 16) / 65536),
    missing: /no stochastic-rounding stream/,
  },
  {
    field: "dropout",
    on: { ...NOISY, model: { ...NOISY.model, dropout: DROPOUT } },
    other: {
      ...NOISY,
      model: { ...NOISY.model, dropout: { ...DROPOUT, embd: 0.2 } },
    },
    // embd [16, 64] at 0.1, then per block attn [2*2, 8, 8] at 0.5; resid 0
    // draws nothing. Dropped iff u / 2^32 < p, else kept as 1/(1-p).
    expected: (rng) =>
      ([[16 * 64, 0.1], [4 * 64, 0.5], [4 * 64, 0.5]] as const).flatMap((
        [n, p],
      ) =>
        Array.from(
          { length: n },
          () => rng.nextUint32() / 2 ** 32 < p ? 0 : Math.fround(1 / (1 - p)),
        )
      ),
    missing: /no dropout stream/,
  },
];

const STREAM = { rounding: Stream.rounding, dropout: Stream.dropout };

/** Everything of a step but `field`. */
function without(s: HostStep, field: Case["field"]) {
  const { [field]: _, ...rest } = s;
  return rest;
}

for (const c of CASES) {
  Deno.test(`${c.field}: its own stream, by its rule; every other host input unchanged`, () => {
    const plain = new HostStreams(NOISY, CORPUS);
    const on = new HostStreams(c.on, CORPUS);
    const rng = new Pcg32(c.on.seed, STREAM[c.field]);
    for (let t = 0; t < 3; t++) {
      const a = plain.next(), b = on.next();
      assert.equal(a[c.field], undefined);
      assert.deepEqual(without(b, c.field), a);
      assert.deepEqual(Array.from(b[c.field]!), c.expected(rng));
    }
    assert.deepEqual(initialParameters(c.on), initialParameters(NOISY));
  });

  Deno.test(`${c.field}: a snapshot resumes the stream where it stood`, () => {
    const a = new HostStreams(c.on, CORPUS);
    a.next();
    a.next();
    const snap = a.snapshot();
    assert.deepEqual(Object.keys(snap), ["step", "noise", c.field]);
    const want = a.next()[c.field]!.slice();
    const b = new HostStreams(c.on, CORPUS);
    b.resume(JSON.parse(JSON.stringify(snap)));
    assert.deepEqual(b.next()[c.field], want);
    assert.throws(
      () =>
        new HostStreams(c.on, CORPUS).resume(
          new HostStreams(NOISY, CORPUS).snapshot(),
        ),
      c.missing,
    );
  });

  Deno.test(`${c.field}: the digest covers the stream only when it is on`, async () => {
    const digest = (config: TrainConfig) =>
      hostStreamsDigest(config, CORPUS, 10);
    const on = await digest(c.on);
    assert.notEqual(on, await digest(NOISY));
    // At another seed too: on and off differ by the stream alone.
    assert.notEqual(
      await digest({ ...c.on, seed: 1 }),
      await digest({ ...NOISY, seed: 1 }),
    );
    if (c.other) assert.notEqual(await digest(c.other), on);
  });
}

Deno.test("without optional streams the snapshot is what it always was", () => {
  assert.deepEqual(
    Object.keys(new HostStreams(NOISY, CORPUS).snapshot()),
    ["step", "noise"],
  );
});

Deno.test("both optional streams at once: each draws what it draws alone", async () => {
  const both: TrainConfig = { ...CASES[1].on, rounding: "stochastic" };
  const a = new HostStreams(both, CORPUS);
  const alone = CASES.map((c) => new HostStreams(c.on, CORPUS));
  for (let t = 0; t < 2; t++) {
    const s = a.next();
    for (const [i, c] of CASES.entries()) {
      assert.deepEqual(s[c.field], alone[i].next()[c.field]);
    }
  }
  const snap = a.snapshot();
  assert.deepEqual(Object.keys(snap), ["step", "noise", "rounding", "dropout"]);
  const digests = await Promise.all(
    [both, ...CASES.map((c) => c.on)].map((c) =>
      hostStreamsDigest(c, CORPUS, 10)
    ),
  );
  assert.equal(new Set(digests).size, 3);
});
