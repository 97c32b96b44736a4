import assert from "node:assert/strict";
import { BlackHoleError } from "./black_hole_error.ts";
import { findBlackHoles, findBlackHolesFloat32 } from "./black_holes.ts";
import { plantedCases, sixRows } from "../testing/matrices.ts";

Deno.test("findBlackHolesFloat32() finds C, P and populations of a hand-made matrix", () => {
  const r = findBlackHolesFloat32(sixRows(), 6, 3);
  assert.equal(r.rows, 6);
  assert.equal(r.C, 2);
  assert.equal(r.P, 5);
  assert.equal(r.distinct, 3);
  assert.deepEqual(r.clusters, [
    { population: 3, tokens: [0, 2, 5] },
    { population: 2, tokens: [1, 4] },
  ]);
});

Deno.test("findBlackHoles() orders equal populations by smallest token", () => {
  // Rows (1 byte each): 9 8 9 8 7 7 -> three pairs; smallest ids 0, 1, 4.
  const r = findBlackHoles({
    bytes: new Uint8Array([9, 8, 9, 8, 7, 7]),
    rows: 6,
    rowBytes: 1,
  });
  assert.deepEqual(r.clusters.map((c) => c.tokens), [[0, 2], [1, 3], [4, 5]]);
  assert.equal(r.C, 3);
  assert.equal(r.P, 6);
  assert.equal(r.distinct, 3);
});

Deno.test("findBlackHoles() on matrices without clusters and edge shapes", () => {
  const none = findBlackHoles({
    bytes: new Uint8Array([1, 2, 3, 4]),
    rows: 4,
    rowBytes: 1,
  });
  assert.deepEqual([none.C, none.P, none.distinct], [0, 0, 4]);
  const empty = findBlackHoles({
    bytes: new Uint8Array(0),
    rows: 0,
    rowBytes: 8,
  });
  assert.deepEqual([empty.C, empty.P, empty.clusters], [0, 0, []]);
  // Zero-width rows are all the same (empty) vector.
  const zeroWidth = findBlackHoles({
    bytes: new Uint8Array(0),
    rows: 3,
    rowBytes: 0,
  });
  assert.deepEqual(zeroWidth.clusters, [{ population: 3, tokens: [0, 1, 2] }]);
  assert.throws(
    () => findBlackHoles({ bytes: new Uint8Array(5), rows: 2, rowBytes: 2 }),
    BlackHoleError,
  );
});

Deno.test("rows differing in one bit are different vectors", () => {
  // Row length 7 also exercises the hash's tail (not a multiple of 4).
  const rowA = [1, 2, 3, 4, 5, 6, 7];
  const rowB = [1, 2, 3, 4, 5, 6, 7 ^ 0x80];
  const bytes = new Uint8Array([...rowA, ...rowB, ...rowA]);
  const r = findBlackHoles({ bytes, rows: 3, rowBytes: 7 });
  assert.deepEqual(r.clusters, [{ population: 2, tokens: [0, 2] }]);
});

Deno.test("a colliding hash never merges different rows", () => {
  // Every row hashes to 0, so every row is a candidate and only the byte
  // comparison can tell them apart.
  const constant = () => 0;
  const bytes = new Uint8Array([
    ...[1, 0],
    ...[2, 0],
    ...[1, 0],
    ...[3, 0],
    ...[2, 0],
    ...[1, 0],
    ...[4, 0],
  ]);
  const r = findBlackHoles({ bytes, rows: 7, rowBytes: 2 }, { hash: constant });
  assert.deepEqual(r.clusters, [
    { population: 3, tokens: [0, 2, 5] },
    { population: 2, tokens: [1, 4] },
  ]);
  assert.equal(r.distinct, 4);

  // A hash that collides for some rows only: parity of the first byte.
  const parity = (v: DataView, o: number) => v.getUint8(o) & 1;
  const r2 = findBlackHoles({ bytes, rows: 7, rowBytes: 2 }, { hash: parity });
  assert.deepEqual(r2.clusters, r.clusters);
});

Deno.test("float32 comparison is bit-exact by default; value-zero merges -0 and +0", () => {
  const e = new Float32Array([
    ...[0, 1],
    ...[-0, 1],
    ...[0, 1],
    ...[NaN, 2],
    ...[NaN, 2],
  ]);
  const bits = findBlackHolesFloat32(e, 5, 2);
  // Rows 3, 4 hold the same NaN bit pattern, but NaN rows never cluster.
  assert.deepEqual(bits.clusters, [{ population: 2, tokens: [0, 2] }]);
  assert.deepEqual(bits.nonFinite, [3, 4]);
  const value = findBlackHolesFloat32(e, 5, 2, { compare: "value-zero" });
  assert.deepEqual(value.clusters, [{ population: 3, tokens: [0, 1, 2] }]);
  assert.deepEqual(value.nonFinite, [3, 4]);
  // The caller's array is left alone.
  assert.ok(Object.is(e[2], -0));
  assert.throws(() => findBlackHolesFloat32(e, 4, 2), BlackHoleError);
});

Deno.test("findBlackHolesFloat32() never clusters NaN or Inf rows", () => {
  // A diverged model: 128 rows of 4 columns, all the same NaN bit pattern.
  const diverged = new Float32Array(128 * 4).fill(NaN);
  const d = findBlackHolesFloat32(diverged, 128, 4);
  assert.equal(d.C, 0);
  assert.equal(d.P, 0);
  assert.deepEqual(d.clusters, []);
  assert.deepEqual(d.nonFinite, Array.from({ length: 128 }, (_, i) => i));
  assert.equal(d.distinct, 0, "distinct counts finite rows only");

  // Finite clusters survive around non-finite rows: rows 0, 4 finite pair;
  // 1, 5 +Inf in one column; 2, 6 -Inf everywhere; 3 NaN in the last column
  // only; 7 finite alone. Both compare modes.
  const A = [1, 2, 3];
  const rows = [
    A,
    [1, Infinity, 3],
    [-Infinity, -Infinity, -Infinity],
    [4, 5, NaN],
    A,
    [1, Infinity, 3],
    [-Infinity, -Infinity, -Infinity],
    [7, 8, 9],
  ];
  const m = new Float32Array(rows.flat());
  for (const compare of ["bits", "value-zero"] as const) {
    const r = findBlackHolesFloat32(m, 8, 3, { compare });
    assert.deepEqual(r.clusters, [{ population: 2, tokens: [0, 4] }], compare);
    assert.equal(r.C, 1);
    assert.equal(r.P, 2);
    assert.deepEqual(r.nonFinite, [1, 2, 3, 5, 6]);
    assert.equal(r.distinct, 2); // A and [7, 8, 9]
  }
  // No non-finite rows: the field is present and empty.
  assert.deepEqual(findBlackHolesFloat32(sixRows(), 6, 3).nonFinite, []);
});

Deno.test("non-finite rows are excluded in every stored format and engine", () => {
  for (const c of plantedCases()) {
    const { bytes, rows, rowBytes, dtype, clusters, nonFinite, what } = c;
    for (const engine of c.engines) {
      const r = findBlackHoles({ bytes, rows, rowBytes }, { dtype, engine });
      assert.deepEqual(r.clusters, clusters, `${what}, ${engine}`);
      assert.deepEqual(r.nonFinite, nonFinite, `${what}, ${engine}`);
      assert.equal(r.C, 2);
      assert.equal(r.P, 4);
      assert.equal(r.distinct, rows - nonFinite.length - 4 + 2);
    }
    // Without a dtype rows are opaque bytes: the NaN rows do cluster.
    const raw = findBlackHoles({ bytes, rows, rowBytes });
    assert.deepEqual(raw.nonFinite, []);
    assert.equal(raw.C, 6);
  }
});

Deno.test("a dtype must fit the rows", () => {
  assert.throws(
    () =>
      findBlackHoles({ bytes: new Uint8Array(12), rows: 2, rowBytes: 6 }, {
        dtype: "F32",
      }),
    /6-byte rows do not hold whole F32 elements/,
  );
  assert.throws(
    () =>
      findBlackHoles({ bytes: new Uint8Array(8), rows: 2, rowBytes: 4 }, {
        dtype: "I8" as "F32",
      }),
    /unknown dtype "I8"/,
  );
});
