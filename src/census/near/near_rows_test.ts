import assert from "node:assert/strict";
import { CensusError } from "../census_error.ts";
import { findNearRows } from "./near_rows.ts";
import type { FloatRows } from "./rows.ts";

/** A matrix over raw little-endian bytes. */
function matrix(
  bytes: Uint8Array,
  rows: number,
  cols: number,
  dtype: "BF16" | "F32",
): FloatRows {
  const rb = bytes.length / rows;
  return {
    rows,
    cols,
    dtype,
    readRowsSync: (s, c, into) => {
      into.set(bytes.subarray(s * rb, (s + c) * rb));
      return into;
    },
  };
}

/** Random rows (fixed seed) spread over several binades. */
function randomRows(rows: number, cols: number, seed: number): Float32Array {
  let x = seed >>> 0;
  const next = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
  return Float32Array.from(
    { length: rows * cols },
    () => (next() - 0.5) * 2 ** (-8 * next()),
  );
}

for (const dtype of ["F32", "BF16"] as const) {
  Deno.test(`near rows (${dtype}): planted pairs at the tolerance are found, one ulp more is not`, () => {
    const rows = 3000;
    const cols = 64;
    const tol = 3;
    const f = randomRows(rows, cols, 7);
    const bits = dtype === "F32"
      ? new Uint32Array(f.buffer)
      : Uint16Array.from(new Uint32Array(f.buffer), (b) => b >>> 16);
    const step = (target: number, source: number, ulps: number[]) => {
      for (let j = 0; j < cols; j++) {
        // Moving away from zero adds ulps to the magnitude either side.
        bits[target * cols + j] = bits[source * cols + j] + (ulps[j] ?? 0);
      }
    };
    const spread = (u: number) =>
      Array.from({ length: cols }, (_, j) => (j % 3 === 0 ? u : j % 3));
    step(10, 5, spread(tol)); // exactly `tol` ulps: near
    step(2999, 1500, spread(tol + 1)); // one ulp too far: not near
    step(700, 1200, [0, 0, 0, tol]); // one component at `tol`
    step(701, 700, []); // bit-identical to 700: joins its cluster
    step(
      42,
      41,
      Array.from({ length: cols }, (_, j) => (j === 63 ? tol + 1 : 0)),
    );
    const bytes = new Uint8Array(bits.buffer);
    const r = findNearRows(matrix(bytes, rows, cols, dtype), { ulps: tol });
    assert.deepEqual(r.clusters, [
      { population: 3, tokens: [700, 701, 1200] },
      { population: 2, tokens: [5, 10] },
    ]);
    assert.deepEqual([r.C, r.P], [2, 5]);
    // With one more ulp allowed, the far pairs join.
    const wider = findNearRows(matrix(bytes, rows, cols, dtype), {
      ulps: tol + 1,
    });
    assert.deepEqual(
      wider.clusters.map((c) => c.tokens),
      [[700, 701, 1200], [5, 10], [41, 42], [1500, 2999]],
    );
  });
}

Deno.test("near rows: every pair a brute-force search finds, and no other", () => {
  // Many rows crowded on a few centres, spread over many cells (48 ulps
  // wide), so that near pairs straddle cell edges.
  const rows = 2000;
  const cols = 2;
  const centres = randomRows(4, cols, 3);
  const f = new Float32Array(rows * cols);
  const bits = new Uint32Array(f.buffer);
  let x = 11;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      f[r * cols + j] = centres[(r % 4) * cols + j];
      bits[r * cols + j] += (x >>> 16) % 200;
    }
  }
  const tol = 3;
  const ord = (i: number) => bits[i] & 0x7fffffff;
  // Pairs within `tol`, and whether they differ at all.
  const brute = new Map<string, boolean>();
  for (let a = 0; a < rows; a++) {
    for (let b = a + 1; b < rows; b++) {
      let max = 0;
      for (let j = 0; j < cols; j++) {
        max = Math.max(max, Math.abs(ord(a * cols + j) - ord(b * cols + j)));
      }
      if (max <= tol) brute.set(`${a},${b}`, max > 0);
    }
  }
  // Connected components holding two different vectors.
  const parent = Array.from({ length: rows }, (_, i) => i);
  const find = (a: number): number =>
    parent[a] === a ? a : (parent[a] = find(parent[a]));
  for (const p of brute.keys()) {
    const [a, b] = p.split(",").map(Number);
    parent[Math.max(find(a), find(b))] = Math.min(find(a), find(b));
  }
  const distinct = new Set<number>();
  for (const [p, differ] of brute) {
    if (differ) distinct.add(find(Number(p.split(",")[0])));
  }
  const groups = new Map<number, number[]>();
  for (let r = 0; r < rows; r++) {
    groups.set(find(r), [...(groups.get(find(r)) ?? []), r]);
  }
  const expected = [...groups.entries()]
    .filter(([root, g]) => g.length > 1 && distinct.has(root))
    .map(([, g]) => g.join(",")).sort();
  assert.ok(
    brute.size > 100 && expected.length > 4,
    `${brute.size} ${expected.length}`,
  );
  const r = findNearRows(
    matrix(new Uint8Array(f.buffer), rows, cols, "F32"),
    { ulps: tol },
    { keys: 2, leaf: 4 },
  );
  assert.deepEqual(r.clusters.map((c) => c.tokens.join(",")).sort(), expected);
});

Deno.test("near rows: cosine threshold, and a bad tolerance is one CensusError", () => {
  const f = new Float32Array([1, 0, 0, 2, 0.001, 0, 0, 1, 0, 0, 1, 0.05]);
  const m = matrix(new Uint8Array(f.buffer), 4, 3, "F32");
  // Rows 0 and 1 point the same way (cos 0.9999999); rows 2, 3 at cos 0.9988.
  assert.deepEqual(
    findNearRows(m, { cosine: 0.99999 }).clusters.map((c) => c.tokens),
    [[0, 1]],
  );
  assert.deepEqual(
    findNearRows(m, { cosine: 0.998 }).clusters.map((c) => c.tokens),
    [[0, 1], [2, 3]],
  );
  for (
    const bad of [{ ulps: 0 }, { ulps: 1.5 }, { cosine: 1 }, { cosine: NaN }]
  ) {
    assert.throws(
      () => findNearRows(m, bad),
      (e) => e instanceof CensusError && !e.message.includes("\n"),
    );
  }
  // Too loose for the matrix: an error, not hours of comparisons.
  assert.throws(
    () => findNearRows(m, { cosine: 0.001 }, { budget: 5 }),
    /too loose/,
  );
});
