// The dropout stream of HostStreams: its own PCG32 stream, so switching
// dropout on leaves every other host input as it was; one draw per mask
// element, dropped iff u / 2^32 < p (checked here against the raw generator,
// and against an independent Python PCG32 in reference_dropout_test.ts);
// resumable from a snapshot; part of the digest only when it is on.

import assert from "node:assert/strict";
import { SEED_RUN, type TrainConfig } from "./config.ts";
import {
  HostStreams,
  hostStreamsDigest,
  initialParameters,
} from "./host_streams.ts";
import { Pcg32, Stream } from "../data/rng.ts";

const CORPUS = 100_000;
// Small batches keep the masks small: 2 x 8 tokens.
const NOISY: TrainConfig = {
  ...SEED_RUN,
  batchSize: 2,
  seqLen: 8,
  noise: { param: "transformer.wte.weight", scale: 3e-6 },
};
const DROP: TrainConfig = {
  ...NOISY,
  model: { ...NOISY.model, dropout: { embd: 0.1, attn: 0.5, resid: 0 } },
};

Deno.test("dropout masks come from their own stream; init, batches, scalars and noise are unchanged", () => {
  const plain = new HostStreams(NOISY, CORPUS);
  const drop = new HostStreams(DROP, CORPUS);
  const rng = new Pcg32(DROP.seed, Stream.dropout);
  // embd [16, 64] at 0.1, then per block attn [2*2, 8, 8] at 0.5; resid 0
  // draws nothing.
  const sizes = [[16 * 64, 0.1], [4 * 64, 0.5], [4 * 64, 0.5]] as const;
  for (let t = 0; t < 3; t++) {
    const a = plain.next(), b = drop.next();
    assert.equal(a.dropout, undefined);
    assert.deepEqual(b.offsets, a.offsets);
    assert.deepEqual(b.scalars, a.scalars);
    assert.deepEqual(b.noise, a.noise);
    let i = 0;
    for (const [n, p] of sizes) {
      const keep = Math.fround(1 / (1 - p));
      for (let k = 0; k < n; k++, i++) {
        const u = rng.nextUint32();
        assert.equal(b.dropout![i], u / 2 ** 32 < p ? 0 : keep);
      }
    }
    assert.equal(b.dropout!.length, i);
  }
  assert.deepEqual(initialParameters(DROP), initialParameters(NOISY));
});

Deno.test("a snapshot resumes the dropout stream where it stood", () => {
  const a = new HostStreams(DROP, CORPUS);
  a.next();
  a.next();
  const snap = a.snapshot();
  assert.ok(snap.dropout);
  const want = a.next().dropout!.slice();
  const b = new HostStreams(DROP, CORPUS);
  b.resume(JSON.parse(JSON.stringify(snap)));
  assert.deepEqual(b.next().dropout, want);
  assert.deepEqual(
    Object.keys(new HostStreams(NOISY, CORPUS).snapshot()),
    ["step", "noise"],
  );
  assert.throws(
    () =>
      new HostStreams(DROP, CORPUS).resume(
        new HostStreams(NOISY, CORPUS).snapshot(),
      ),
    /no dropout stream/,
  );
});

Deno.test("the digest covers the dropout masks only when dropout is on", async () => {
  const plain = await hostStreamsDigest(NOISY, CORPUS, 10);
  assert.notEqual(await hostStreamsDigest(DROP, CORPUS, 10), plain);
  assert.equal(
    await hostStreamsDigest(
      { ...NOISY, model: { ...NOISY.model, dropout: undefined } },
      CORPUS,
      10,
    ),
    plain,
  );
  // Another probability draws other masks from the same bits.
  const other = { ...DROP.model.dropout!, embd: 0.2 };
  assert.notEqual(
    await hostStreamsDigest(
      { ...DROP, model: { ...DROP.model, dropout: other } },
      CORPUS,
      10,
    ),
    await hostStreamsDigest(DROP, CORPUS, 10),
  );
});
