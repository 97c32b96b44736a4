// The stochastic-rounding stream of HostStreams: its own PCG32 stream, so
// switching it on leaves every other host input as it was; one uniform per
// parameter per step; resumable from a snapshot; part of the digest only
// when it is on.

import assert from "node:assert/strict";
import { SEED_RUN, type TrainConfig } from "./config.ts";
import {
  HostStreams,
  hostStreamsDigest,
  initialParameters,
} from "./host_streams.ts";
import { Pcg32, Stream } from "../data/rng.ts";

const CORPUS = 100_000;
const NOISY: TrainConfig = {
  ...SEED_RUN,
  noise: { param: "transformer.wte.weight", scale: 3e-6 },
};
const SR: TrainConfig = { ...NOISY, rounding: "stochastic" };
const PARAMS = 116_480; // the seeds' model, LayerNorm (tools/reference/README.md)

Deno.test("rounding uniforms come from their own stream; init, batches, scalars and noise are unchanged", () => {
  const plain = new HostStreams(NOISY, CORPUS);
  const sr = new HostStreams(SR, CORPUS);
  // Stream 4 of the seed, drawn independently here: top 16 bits / 2^16.
  const rng = new Pcg32(SR.seed, Stream.rounding);
  for (let t = 0; t < 3; t++) {
    const a = plain.next(), b = sr.next();
    assert.equal(a.rounding, undefined);
    assert.deepEqual(b.offsets, a.offsets);
    assert.deepEqual(b.scalars, a.scalars);
    assert.deepEqual(b.noise, a.noise);
    assert.equal(b.rounding!.length, PARAMS);
    for (const u of b.rounding!) {
      assert.equal(u, (rng.nextUint32() >>> 16) / 65536);
    }
  }
  assert.deepEqual(initialParameters(SR), initialParameters(NOISY));
});

Deno.test("a snapshot resumes the rounding stream where it stood", () => {
  const a = new HostStreams(SR, CORPUS);
  a.next();
  a.next();
  const snap = a.snapshot();
  assert.ok(snap.rounding);
  const want = a.next().rounding!.slice();
  const b = new HostStreams(SR, CORPUS);
  b.resume(JSON.parse(JSON.stringify(snap)));
  assert.deepEqual(b.next().rounding, want);
  // Without rounding the snapshot is what it always was.
  assert.deepEqual(
    Object.keys(new HostStreams(NOISY, CORPUS).snapshot()),
    ["step", "noise"],
  );
  assert.throws(
    () =>
      new HostStreams(SR, CORPUS).resume(
        new HostStreams(NOISY, CORPUS).snapshot(),
      ),
    /no stochastic-rounding stream/,
  );
});

Deno.test("the digest covers the rounding uniforms only when rounding is on", async () => {
  const plain = await hostStreamsDigest(NOISY, CORPUS, 10);
  const sr = await hostStreamsDigest(SR, CORPUS, 10);
  assert.notEqual(sr, plain);
  assert.equal(
    await hostStreamsDigest({ ...NOISY, rounding: undefined }, CORPUS, 10),
    plain,
  );
  assert.notEqual(
    await hostStreamsDigest({ ...SR, seed: 1 }, CORPUS, 10),
    await hostStreamsDigest({ ...NOISY, seed: 1 }, CORPUS, 10),
  );
});
