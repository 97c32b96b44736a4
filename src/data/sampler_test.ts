import assert from "node:assert/strict";
import {
  createSampler,
  makeBatch,
  SamplerError,
  shuffleInPlace,
} from "./sampler.ts";
import { Pcg32 } from "./rng.ts";

Deno.test("shuffleInPlace() deals the pcg-c-basic demo's cards", () => {
  // pcg32-demo.out, round 1 (seed 42, stream 54): after six 32-bit numbers,
  // 65 coins and 33 dice the demo shuffles cards 0..51 (card c is
  // "A23456789TJQK"[c / 4] + "hcds"[c % 4]) exactly like shuffleInPlace.
  const rng = new Pcg32(42, 54);
  for (let i = 0; i < 6; i++) rng.nextUint32();
  for (let i = 0; i < 65; i++) rng.nextBelow(2);
  for (let i = 0; i < 33; i++) rng.nextBelow(6);
  const cards = Int32Array.from({ length: 52 }, (_, i) => i);
  shuffleInPlace(rng, cards);
  const dealt = Array.from(
    cards,
    (c) => "A23456789TJQK"[c >> 2] + "hcds"[c & 3],
  )
    .join(" ");
  assert.equal(
    dealt,
    "Qd Ks 6d 3s 3d 4c 3h Td Kc 5c Jh Kd Jd As 4s 4h Ad Th Ac Jc 7s Qs " +
      "2s 7h Kh 2d 6c Ah 4d Qh 9h 6s 5s 2c 9c Ts 8d 9s 3c 8c Js 5d 2h 6h " +
      "7d 8s 9d 5h 8h Qc 7c Tc",
  );
  // Round 2 starts from the state the demo prints after the deal.
  assert.equal(rng.getState().state, 262717807517198251n);
});

Deno.test("shuffleInPlace() makes all permutations equally likely", () => {
  // 3 elements, 6 permutations, 30,000 shuffles. A classic off-by-one
  // (drawing below i - 1, Sattolo's algorithm) would only ever give the two
  // cyclic permutations; drawing below n every time is visibly biased.
  const rng = new Pcg32(3, 4);
  const counts = new Map<string, number>();
  const n = 30_000;
  for (let k = 0; k < n; k++) {
    const a = [0, 1, 2];
    shuffleInPlace(rng, a);
    counts.set(a.join(""), (counts.get(a.join("")) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  let chi2 = 0;
  for (const c of counts.values()) chi2 += (c - n / 6) ** 2 / (n / 6);
  // Chi-square, 5 degrees of freedom: 20.5 is the 0.999 quantile.
  assert.ok(chi2 < 20.5, `chi2 ${chi2} ${[...counts]}`);
});

Deno.test("createSampler(): the seeds' corpus sizes", () => {
  const s = createSampler({ windows: 265_905 - 128, batchSize: 32, seed: 42 });
  // 265,777 = 8,305 * 32 + 17.
  assert.equal(s.batchesPerEpoch, 8305);
  assert.equal(s.droppedPerEpoch, 17);
  assert.equal(s.next().length, 32);
  assert.equal(s.step, 1);
});

Deno.test("every offset appears exactly once per epoch", () => {
  const windows = 103;
  const batchSize = 10; // 10 batches per epoch, 3 windows dropped
  const s = createSampler({ windows, batchSize, seed: 7 });
  assert.equal(s.batchesPerEpoch, 10);
  assert.equal(s.droppedPerEpoch, 3);
  for (let epoch = 0; epoch < 3; epoch++) {
    const seen = new Uint8Array(windows);
    const batched: number[] = [];
    for (let k = 0; k < 10; k++) {
      for (const o of s.next()) batched.push(o);
    }
    for (const o of batched) seen[o]++;
    const order = s.epochOrder(epoch);
    // The batches are the permutation's first 100 entries, in order.
    assert.deepEqual(batched, Array.from(order.subarray(0, 100)));
    for (const o of order) seen[o]++;
    // Each batched offset is counted twice, each dropped one once, none zero.
    const ones = [...seen].filter((c) => c === 1).length;
    assert.equal(ones, 3, `epoch ${epoch}`);
    assert.ok(seen.every((c) => c === 1 || c === 2), `epoch ${epoch}`);
    assert.deepEqual(
      Array.from(order).sort((a, b) => a - b),
      Array.from({ length: windows }, (_, i) => i),
    );
  }
  // Consecutive epochs use different permutations.
  assert.notDeepEqual(s.epochOrder(0), s.epochOrder(1));
});

Deno.test("the first epoch is the PRNG's shuffle of 0..windows-1", () => {
  // Independent construction from the generator on stream 2 (Stream.sampler).
  const rng = new Pcg32(11, 2);
  const want = Array.from({ length: 20 }, (_, i) => i);
  for (let i = 20; i > 1; i--) {
    const j = rng.nextBelow(i);
    [want[j], want[i - 1]] = [want[i - 1], want[j]];
  }
  const s = createSampler({ windows: 20, batchSize: 4, seed: 11 });
  assert.deepEqual(Array.from(s.next()), want.slice(0, 4));
  assert.deepEqual(Array.from(s.next()), want.slice(4, 8));
  // The second epoch continues the same stream.
  const want2 = Array.from({ length: 20 }, (_, i) => i);
  for (let i = 20; i > 1; i--) {
    const j = rng.nextBelow(i);
    [want2[j], want2[i - 1]] = [want2[i - 1], want2[j]];
  }
  assert.deepEqual(Array.from(s.batchAt(5)), want2.slice(0, 4));
});

Deno.test("batchAt() and seek() agree with sequential next()", () => {
  const opts = { windows: 57, batchSize: 8, seed: 123n };
  const a = createSampler(opts);
  const seq: Int32Array[] = [];
  for (let i = 0; i < 30; i++) seq.push(a.next()); // 4+ epochs of 7 batches
  const b = createSampler(opts);
  // Random access in scrambled order, going back and forth between epochs.
  for (const step of [29, 0, 13, 7, 6, 21, 14, 28, 1]) {
    assert.deepEqual(b.batchAt(step), seq[step], `step ${step}`);
  }
  b.seek(20);
  assert.equal(b.step, 20);
  assert.deepEqual(b.next(), seq[20]);
  // Same seed, same batches; another seed or stream, other batches.
  assert.deepEqual(createSampler(opts).next(), seq[0]);
  assert.notDeepEqual(createSampler({ ...opts, seed: 124n }).next(), seq[0]);
  assert.notDeepEqual(createSampler({ ...opts, stream: 9 }).next(), seq[0]);
});

Deno.test("createSampler() rejects impossible options", () => {
  const bad = [
    { windows: 0, batchSize: 1, seed: 1 },
    { windows: 10, batchSize: 0, seed: 1 },
    { windows: 10, batchSize: 11, seed: 1 },
    { windows: 2.5, batchSize: 1, seed: 1 },
  ];
  for (const opts of bad) {
    assert.throws(
      () => createSampler(opts),
      SamplerError,
      JSON.stringify(opts),
    );
  }
  assert.throws(
    () => createSampler({ windows: 10, batchSize: 11, seed: 1 }),
    /batchSize 11 is larger than the number of windows 10/,
  );
  const s = createSampler({ windows: 10, batchSize: 2, seed: 1 });
  assert.throws(() => s.batchAt(-1), SamplerError);
  assert.throws(() => s.seek(1.5), SamplerError);
});

// A tiny corpus: "abcdefghij" = bytes 97..106.
const CORPUS = new TextEncoder().encode("abcdefghij");
const [a, b, c, d, e, f, g, h] = [97, 98, 99, 100, 101, 102, 103, 104];

Deno.test("makeBatch(): next-token objective by hand", () => {
  // B = 2, T = 4, offsets 0 and 3: chunks "abcde" and "defgh".
  const batch = makeBatch(CORPUS, Int32Array.from([0, 3]), 4, "next-token");
  assert.deepEqual(Array.from(batch.inputIds), [a, b, c, d, d, e, f, g]);
  assert.deepEqual(Array.from(batch.targets), [b, c, d, e, e, f, g, h]);
  assert.deepEqual(Array.from(batch.weights), new Array(8).fill(1 / 8));
});

Deno.test("makeBatch(): double-shift objective by hand", () => {
  // Logits at t are trained on chunk[t + 2]; the last position has none.
  const batch = makeBatch(CORPUS, [0, 3], 4, "double-shift");
  assert.deepEqual(Array.from(batch.inputIds), [a, b, c, d, d, e, f, g]);
  assert.deepEqual(Array.from(batch.targets), [c, d, e, 0, f, g, h, 0]);
  // Divided by B * T = 8, not by the 6 positions with a target.
  const w = 1 / 8;
  assert.deepEqual(Array.from(batch.weights), [w, w, w, 0, w, w, w, 0]);
});

Deno.test("makeBatch(): weights at the seeds' shape sum to (T-1)/T", () => {
  const bytes = new Uint8Array(300).map((_, i) => i % 128);
  const offsets = Int32Array.from({ length: 32 }, (_, i) => i * 5);
  const ds = makeBatch(bytes, offsets, 128, "double-shift");
  const nt = makeBatch(bytes, offsets, 128, "next-token");
  // 1 / 4096 = 2^-12 is exact in float32, so these sums are exact.
  assert.equal(ds.weights.reduce((s, x) => s + x, 0), 127 / 128);
  assert.equal(nt.weights.reduce((s, x) => s + x, 0), 1);
  assert.equal(ds.weights[127], 0);
  assert.equal(ds.weights[126], 2 ** -12);
  // Row 1 starts at offset 5: input 5.., double-shift target 7...
  assert.equal(ds.inputIds[128], 5);
  assert.equal(ds.targets[128], 7);
  assert.equal(nt.targets[128], 6);
});

Deno.test("makeBatch(): the last valid offset and the errors", () => {
  // Offset 5 with T = 4 needs bytes 5..9, the last five.
  const last = makeBatch(CORPUS, [5], 4, "double-shift");
  assert.deepEqual(Array.from(last.targets), [
    CORPUS[7],
    CORPUS[8],
    CORPUS[9],
    0,
  ]);
  assert.throws(
    () => makeBatch(CORPUS, [6], 4, "next-token"),
    /offset 6 \(row 0\) is outside 0\.\.5/,
  );
  assert.throws(() => makeBatch(CORPUS, [-1], 4, "next-token"), SamplerError);
  assert.throws(() => makeBatch(CORPUS, [], 4, "next-token"), SamplerError);
  assert.throws(
    () => makeBatch(CORPUS, [0], 1, "double-shift"),
    /context >= 2/,
  );
  assert.throws(() => makeBatch(CORPUS, [0], 0, "next-token"), SamplerError);
  assert.throws(
    () => makeBatch(CORPUS, [0], 4, "shifted" as "next-token"),
    /objective must be/,
  );
});
