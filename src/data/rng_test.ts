import assert from "node:assert/strict";
import { Pcg32, Stream } from "./rng.ts";

// Published output of pcg-c-basic's `pcg32-demo` (pcg32-demo.out, seed
// initstate 42, initseq 54), rounds 1 and 2. Each round prints the state
// dump, six 32-bit numbers, 65 coins (`boundedrand(2) ? 'H' : 'T'`), 33 dice
// (`boundedrand(6) + 1`) and a 52-card deal; round 2 continues the stream.
const DEMO = [
  {
    state: 1753877967969059832n,
    numbers: [
      0xa15c02b7,
      0x7b47f409,
      0xba1d3330,
      0x83d2f293,
      0xbfa4784b,
      0xcbed606e,
    ],
    coins: "HHTTTHTHHHTHTTTHHHHHTTTHHHTHTHTHTTHTTTHHHHHHTTTTHHTTTTTHTTTTTTTHT",
    rolls: [
      3,
      4,
      1,
      1,
      2,
      2,
      3,
      2,
      4,
      3,
      2,
      4,
      3,
      3,
      5,
      2,
      3,
      1,
      3,
      1,
      5,
      1,
      4,
      1,
      5,
      6,
      4,
      6,
      6,
      2,
      6,
      3,
      3,
    ],
  },
  {
    state: 262717807517198251n,
    numbers: [
      0x74ab93ad,
      0x1c1da000,
      0x494ff896,
      0x34462f2f,
      0xd308a3e5,
      0x0fa83bab,
    ],
    coins: "HHHHHHHHHHTHHHTHTHTHTHTTTTHHTTTHHTHHTHTTHHTTTHHHHHHTHTTHTHTTTTTTT",
    rolls: [
      5,
      1,
      1,
      3,
      3,
      2,
      4,
      5,
      3,
      2,
      2,
      6,
      4,
      3,
      2,
      4,
      2,
      4,
      3,
      2,
      3,
      6,
      3,
      2,
      3,
      4,
      2,
      4,
      1,
      1,
      5,
      4,
      4,
    ],
  },
];

Deno.test("Pcg32 reproduces the pcg-c-basic demo (42, 54)", () => {
  const rng = new Pcg32(42, 54);
  assert.equal(rng.getState().inc, 109n);
  for (const round of DEMO) {
    assert.equal(rng.getState().state, round.state);
    assert.deepEqual(
      round.numbers.map(() => rng.nextUint32()),
      round.numbers,
    );
    let coins = "";
    for (let i = 0; i < 65; i++) coins += rng.nextBelow(2) ? "H" : "T";
    assert.equal(coins, round.coins);
    assert.deepEqual(round.rolls.map(() => rng.nextBelow(6) + 1), round.rolls);
    // The deal: for i = 52..2, swap cards[boundedrand(i)] with cards[i-1].
    for (let i = 52; i > 1; i--) rng.nextBelow(i);
  }
});

interface Case {
  seed: string;
  stream: string;
  state: string;
  inc: string;
  uint32: number[];
  uint32At99999: number;
  below: Record<string, number[]>;
  float64: string[];
  normal: string[];
}

// Written by tools/reference/make_pcg32_cases.py, an independent big-integer
// Python implementation of pcg-c-basic (glibc libm for the normals).
const fixture: { cases: Case[] } = JSON.parse(
  await Deno.readTextFile(
    new URL("../../fixtures/rng/pcg32_cases.json", import.meta.url),
  ),
);

Deno.test("Pcg32 matches the Python reference for 64-bit seeds and streams", () => {
  assert.ok(fixture.cases.length >= 6);
  for (const c of fixture.cases) {
    const label = `seed ${c.seed} stream ${c.stream}`;
    const seed = BigInt(c.seed);
    const stream = BigInt(c.stream);
    let rng = new Pcg32(seed, stream);
    assert.equal(rng.getState().state, BigInt(c.state), label);
    assert.equal(rng.getState().inc, BigInt(c.inc), label);
    assert.deepEqual(c.uint32.map(() => rng.nextUint32()), c.uint32, label);

    rng = new Pcg32(seed, stream);
    for (let i = 0; i < 99999; i++) rng.nextUint32();
    assert.equal(rng.nextUint32(), c.uint32At99999, label);

    for (const [bound, expected] of Object.entries(c.below)) {
      rng = new Pcg32(seed, stream);
      assert.deepEqual(
        expected.map(() => rng.nextBelow(Number(bound))),
        expected,
        `${label} below ${bound}`,
      );
    }

    rng = new Pcg32(seed, stream);
    // Python's repr() is the shortest round-trip form, so Number() is exact.
    assert.deepEqual(
      c.float64.map(() => rng.nextFloat64()),
      c.float64.map(Number),
      label,
    );

    rng = new Pcg32(seed, stream);
    for (const [i, s] of c.normal.entries()) {
      const want = Number(s);
      const got = rng.normal();
      // V8 and glibc may differ by an ulp in log/sin/cos.
      assert.ok(
        Math.abs(got - want) <= 4e-16 * Math.max(1, Math.abs(want)),
        `${label} normal ${i}: ${got} vs ${want}`,
      );
    }
  }
});

Deno.test("Pcg32 accepts number and bigint seeds alike", () => {
  const a = new Pcg32(2 ** 53 - 1, 7);
  const b = new Pcg32(2n ** 53n - 1n, 7n);
  for (let i = 0; i < 10; i++) assert.equal(a.nextUint32(), b.nextUint32());
});

Deno.test("Pcg32 rejects seeds outside 0..2^64-1", () => {
  assert.throws(() => new Pcg32(-1), RangeError);
  assert.throws(() => new Pcg32(1.5), RangeError);
  assert.throws(() => new Pcg32(2 ** 53), RangeError);
  assert.throws(() => new Pcg32(0, 1n << 64n), RangeError);
  assert.throws(() => new Pcg32(-1n), RangeError);
});

Deno.test("Pcg32.nextBelow() rejects bad bounds", () => {
  const rng = new Pcg32(1);
  for (const n of [0, -3, 2.5, 2 ** 32 + 1, Number.NaN]) {
    assert.throws(() => rng.nextBelow(n), RangeError, String(n));
  }
});

Deno.test("Pcg32.nextFloat64() is the 53-bit combination of two draws", () => {
  // Hand derivation from the first two demo numbers:
  // 0xa15c02b7 >>> 5 = 0x050ae015, 0x7b47f409 >>> 6 = 0x01ed1fd0,
  // value = (0x050ae015 * 2^26 + 0x01ed1fd0) / 2^53.
  const want = (0x050ae015 * 2 ** 26 + 0x01ed1fd0) / 2 ** 53;
  assert.equal(new Pcg32(42, 54).nextFloat64(), want);
  assert.ok(want > 0.63 && want < 0.64); // 0xa15c02b7 / 2^32 = 0.6303...
});

Deno.test("Pcg32.normal() returns the cached second Box-Muller value", () => {
  const rng = new Pcg32(42, 54);
  const u = new Pcg32(42, 54);
  const u1 = 1 - u.nextFloat64();
  const u2 = u.nextFloat64();
  const r = Math.sqrt(-2 * Math.log(u1));
  assert.equal(rng.normal(), r * Math.cos(2 * Math.PI * u2));
  assert.equal(rng.normal(), r * Math.sin(2 * Math.PI * u2));
  // Two normals used four 32-bit draws: the next draw is the demo's fifth.
  assert.equal(rng.clone().nextUint32(), 0xbfa4784b);
  assert.equal(u.nextUint32(), 0xbfa4784b);
});

Deno.test("Pcg32.normal() has mean 0 and variance 1", () => {
  const rng = new Pcg32(7, Stream.noise);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    s += z;
    s2 += z * z;
  }
  // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032.
  assert.ok(Math.abs(s / n) < 0.011, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.016, `variance ${s2 / n}`);
});

Deno.test("Pcg32.nextBelow() is uniform for a non-power-of-two bound", () => {
  const rng = new Pcg32(99, Stream.sampler);
  const counts = new Array(7).fill(0);
  const n = 70_000;
  for (let i = 0; i < n; i++) counts[rng.nextBelow(7)]++;
  // Chi-square with 6 degrees of freedom; 22.46 is the 0.999 quantile.
  const chi2 = counts.reduce((a, c) => a + (c - n / 7) ** 2 / (n / 7), 0);
  assert.ok(chi2 < 22.46, `chi2 ${chi2} counts ${counts}`);
});

Deno.test("Pcg32.fork() and clone()", () => {
  const base = new Pcg32(42, 0);
  base.nextUint32();
  const forked = base.fork(54);
  assert.equal(forked.seed, 42n);
  assert.equal(forked.stream, 54n);
  // A fork starts at the beginning of its stream: the demo sequence.
  assert.equal(forked.nextUint32(), 0xa15c02b7);

  const a = new Pcg32(5, 6);
  a.nextUint32();
  a.normal(); // leaves a cached value
  const b = a.clone();
  assert.equal(b.normal(), a.normal());
  assert.equal(b.nextUint32(), a.nextUint32());
  assert.deepEqual(b.getState(), a.getState());

  // Different streams of one seed give different sequences.
  const s1 = new Pcg32(42, Stream.init);
  const s2 = new Pcg32(42, Stream.sampler);
  const s3 = new Pcg32(42, Stream.noise);
  const x1 = [s1.nextUint32(), s1.nextUint32()];
  const x2 = [s2.nextUint32(), s2.nextUint32()];
  const x3 = [s3.nextUint32(), s3.nextUint32()];
  assert.notDeepEqual(x1, x2);
  assert.notDeepEqual(x2, x3);
  assert.notDeepEqual(x1, x3);
});

// PCG-XSH-RR in BigInt, written from the pcg-c-basic source: the slow,
// obviously-exact reference for the bulk draw below.
function bigIntPcg32(seed: bigint, stream: bigint): () => number {
  const mask = (1n << 64n) - 1n;
  const inc = ((stream << 1n) | 1n) & mask;
  let state = 0n;
  const next = () => {
    const old = state;
    state = (old * 6364136223846793005n + inc) & mask;
    const xorshifted = Number(((old >> 18n) ^ old) >> 27n & 0xffffffffn);
    const rot = Number(old >> 59n);
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  };
  next();
  state = (state + seed) & mask;
  next();
  return next;
}

Deno.test("Pcg32.fillUint32() draws what nextUint32() and a BigInt PCG32 draw", () => {
  const cases: [bigint, bigint][] = [
    [42n, 54n],
    [0n, 0n],
    [7n, 5n],
    [0xffffffffffffffffn, 0x7fffffffffffffffn],
    [0x0123456789abcdefn, 3n],
  ];
  for (const [seed, stream] of cases) {
    const reference = bigIntPcg32(seed, stream);
    const bulk = new Pcg32(seed, stream);
    const single = new Pcg32(seed, stream);
    // Sub-ranges of different lengths, interleaved with single draws, so the
    // state written back by each fill is checked too.
    for (const n of [1, 2, 1000, 0, 4097]) {
      const out = new Uint32Array(n + 3).fill(0xdeadbeef);
      bulk.fillUint32(out.subarray(2, 2 + n));
      assert.equal(out[0], 0xdeadbeef);
      assert.equal(out[1], 0xdeadbeef);
      assert.equal(out[n + 2], 0xdeadbeef);
      for (let i = 0; i < n; i++) {
        const want = reference();
        assert.equal(single.nextUint32(), want);
        assert.equal(out[2 + i], want, `seed ${seed} stream ${stream} #${i}`);
      }
      const want = reference();
      assert.equal(bulk.nextUint32(), want);
      assert.equal(single.nextUint32(), want);
    }
  }
});
