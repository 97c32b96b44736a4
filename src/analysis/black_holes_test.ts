import assert from "node:assert/strict";
import {
  BlackHoleError,
  BlackHoleScanner,
  centroid,
  centroidDisplacement,
  centroidNorm,
  describeToken,
  findBlackHoles,
  findBlackHolesFloat32,
  findBlackHolesStreaming,
  hashRowBytes,
  wasmHashAvailable,
} from "./black_holes.ts";

/** Six 3-column float32 rows: 0, 2, 5 equal; 1, 4 equal; 3 alone. */
function sixRows(): Float32Array {
  const A = [0.5, -1, 2];
  const B = [3, 3, 3];
  const D = [0.5, -1, 2.0001];
  return new Float32Array([...A, ...B, ...A, ...D, ...B, ...A]);
}

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

/** A StreamingMatrix over `bytes` that logs every read. */
function streamed(bytes: Uint8Array, rows: number, rowBytes: number) {
  const reads: Array<[number, number]> = [];
  return {
    reads,
    matrix: {
      rows,
      rowBytes,
      readRows(start: number, count: number, into: Uint8Array) {
        reads.push([start, count]);
        into.set(bytes.subarray(start * rowBytes, (start + count) * rowBytes));
        return Promise.resolve(into);
      },
    },
  };
}

Deno.test("findBlackHolesStreaming() agrees with the in-memory finder and re-reads only what it did not keep", async () => {
  const f = sixRows();
  const bytes = new Uint8Array(f.buffer);
  const expected = [
    { population: 3, tokens: [0, 2, 5] },
    { population: 2, tokens: [1, 4] },
  ];
  // Blocks of 4 and 2 rows (blockBytes 48 = 4 rows of 12 bytes). Rows 0 and
  // 2 repeat within block 1 and are kept; in block 2, rows 4 and 5 repeat
  // keys first seen earlier: they are kept, but row 1 (first of its key, in
  // block 1 and not yet known to repeat there) must be read again.
  const kept = streamed(bytes, 6, 12);
  const r = await findBlackHolesStreaming(kept.matrix, { blockBytes: 48 });
  assert.deepEqual(r.clusters, expected);
  assert.deepEqual(kept.reads, [[0, 4], [4, 2], [1, 1]]);

  // Keeping nothing: every candidate row is read again (row 3, a singleton,
  // never is).
  const none = streamed(bytes, 6, 12);
  const r2 = await findBlackHolesStreaming(none.matrix, {
    blockBytes: 48,
    captureBytes: 0,
  });
  assert.deepEqual(r2.clusters, expected);
  assert.deepEqual(none.reads, [
    [0, 4],
    [4, 2],
    [0, 1],
    [2, 1],
    [5, 1],
    [1, 1],
    [4, 1],
  ]);

  // A budget of one row keeps only row 0.
  const one = streamed(bytes, 6, 12);
  const r3 = await findBlackHolesStreaming(one.matrix, {
    blockBytes: 48,
    captureBytes: 12,
  });
  assert.deepEqual(r3.clusters, expected);
  assert.deepEqual(one.reads, [[0, 4], [4, 2], [2, 1], [5, 1], [1, 1], [4, 1]]);
});

Deno.test("findBlackHolesStreaming() reads runs of consecutive candidates at once", async () => {
  // Rows 2..5 identical (like padding rows at the end of a vocabulary).
  const bytes = new Uint8Array([1, 2, 9, 9, 9, 9]);
  const { reads, matrix } = streamed(bytes, 6, 1);
  const r = await findBlackHolesStreaming(matrix, { captureBytes: 0 });
  assert.deepEqual(r.clusters, [{ population: 4, tokens: [2, 3, 4, 5] }]);
  assert.deepEqual(reads, [[0, 6], [2, 4]]);
});

Deno.test("findBlackHolesStreaming() uses blocking reads when offered", async () => {
  const bytes = new Uint8Array(sixRows().buffer);
  const syncReads: Array<[number, number]> = [];
  const { reads, matrix } = streamed(bytes, 6, 12);
  const both = {
    ...matrix,
    readRowsSync(start: number, count: number, into: Uint8Array) {
      syncReads.push([start, count]);
      into.set(bytes.subarray(start * 12, (start + count) * 12));
      return into;
    },
  };
  const r = await findBlackHolesStreaming(both, { blockBytes: 48 });
  assert.deepEqual([r.C, r.P], [2, 5]);
  assert.deepEqual(syncReads, [[0, 4], [4, 2], [1, 1]]);
  assert.deepEqual(reads, []);
  // Asked for async reads, it uses readRows for the blocks.
  const r2 = await findBlackHolesStreaming(both, {
    blockBytes: 48,
    reads: "async",
  });
  assert.deepEqual([r2.C, r2.P], [2, 5]);
  assert.deepEqual(reads, [[0, 4], [4, 2]]);
  await assert.rejects(
    findBlackHolesStreaming(matrix, { reads: "sync" }),
    /needs matrix\.readRowsSync/,
  );
});

Deno.test("findBlackHolesStreaming() accepts reads that return other memory, and checks lengths", async () => {
  const bytes = new Uint8Array(sixRows().buffer);
  const copying = {
    rows: 6,
    rowBytes: 12,
    readRows: (start: number, count: number) =>
      Promise.resolve(bytes.slice(start * 12, (start + count) * 12)),
  };
  const r = await findBlackHolesStreaming(copying, { blockBytes: 30 });
  assert.deepEqual([r.C, r.P], [2, 5]);
  // The same with rows the SIMD kernel hashes (64 bytes), read ahead
  // asynchronously: blocks from other memory must not be staged where the
  // next read is landing.
  // Byte j of row r is 7j + 223r (mod 256): rows pairwise distinct.
  const wide = new Uint8Array(10 * 64).map((_, i) =>
    (7 * (i % 64) + 223 * Math.floor(i / 64)) & 0xff
  );
  wide.copyWithin(7 * 64, 2 * 64, 3 * 64); // rows 2 and 7 equal
  wide.copyWithin(9 * 64, 2 * 64, 3 * 64); // and row 9
  const wideCopying = {
    rows: 10,
    rowBytes: 64,
    readRows: async (start: number, count: number) => {
      await new Promise((ok) => setTimeout(ok, 1));
      return wide.slice(start * 64, (start + count) * 64);
    },
  };
  const rw = await findBlackHolesStreaming(wideCopying, {
    blockBytes: 128,
    engine: "wasm",
  });
  assert.deepEqual(rw.clusters, [{ population: 3, tokens: [2, 7, 9] }]);

  const short = {
    ...copying,
    readRows: () => Promise.resolve(new Uint8Array(3)),
  };
  await assert.rejects(
    findBlackHolesStreaming(short),
    /readRows\(0, 6\) returned 3 bytes, expected 72/,
  );
  // A failing read is reported, and the prefetch in flight is not left dangling.
  let calls = 0;
  const failing = {
    ...copying,
    readRows: (start: number, count: number) =>
      ++calls === 2
        ? Promise.reject(new Error("disk on fire"))
        : copying.readRows(start, count),
  };
  await assert.rejects(
    findBlackHolesStreaming(failing, { blockBytes: 24 }),
    /disk on fire/,
  );
});

Deno.test("the SIMD kernel computes the same keys as hashRowBytes", () => {
  assert.ok(
    wasmHashAvailable(),
    "WebAssembly SIMD should be available in Deno",
  );
  // Pseudo-random rows of 64, 128 and 4096 bytes, with one duplicate.
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  for (const rowBytes of [64, 128, 4096]) {
    const rows = 37;
    const bytes = Uint8Array.from({ length: rows * rowBytes }, next);
    bytes.copyWithin(30 * rowBytes, 4 * rowBytes, 5 * rowBytes);
    const wasm = new BlackHoleScanner(rows, rowBytes, {
      engine: "wasm",
      blockRows: 5,
    });
    const js = new BlackHoleScanner(rows, rowBytes, { engine: "js" });
    assert.equal(wasm.engine, "wasm");
    // One block from outside the kernel's memory (copied in 5-row pieces)...
    wasm.add(bytes.subarray(0, 20 * rowBytes));
    // ...and blocks read into the kernel's own buffers (hashed in place).
    const [b0] = wasm.blockBuffers();
    b0.set(bytes.subarray(20 * rowBytes, 25 * rowBytes));
    wasm.add(b0);
    wasm.add(bytes.subarray(25 * rowBytes));
    js.add(bytes);
    const view = new DataView(bytes.buffer);
    const direct = Array.from(
      { length: rows },
      (_, r) => hashRowBytes(view, r * rowBytes, rowBytes),
    );
    assert.deepEqual([...wasm.keys()], direct);
    assert.deepEqual([...js.keys()], direct);
    assert.equal(direct[30], direct[4]);
    assert.equal(new Set(direct).size, rows - 1);
    assert.deepEqual(wasm.candidates(), [[4, 30]]);
    for (const engine of ["wasm", "js"] as const) {
      const r = findBlackHoles({ bytes, rows, rowBytes }, { engine });
      assert.deepEqual(r.clusters, [{ population: 2, tokens: [4, 30] }]);
    }
  }
  // The kernel needs rows of a multiple of 64 bytes and the default hash.
  assert.throws(
    () => new BlackHoleScanner(2, 48, { engine: "wasm" }),
    /multiple of 64/,
  );
  assert.throws(
    () => new BlackHoleScanner(2, 64, { engine: "wasm", hash: () => 0 }),
    /no custom hash/,
  );
  // "auto" picks the kernel for matrices of 1 MiB and more.
  assert.equal(new BlackHoleScanner(16384, 64).engine, "wasm");
  assert.equal(new BlackHoleScanner(16383, 64).engine, "js");
  assert.equal(new BlackHoleScanner(1 << 20, 48).engine, "js");
});

Deno.test("a single flipped bit changes the SIMD kernel's key", () => {
  const rowBytes = 128;
  const base = Uint8Array.from(
    { length: rowBytes },
    (_, i) => (i * 31 + 7) & 0xff,
  );
  // Row 0 is the base; row 1 + k flips bit k % 8 of byte k.
  const rows = 1 + rowBytes;
  const bytes = new Uint8Array(rows * rowBytes);
  bytes.set(base);
  for (let k = 0; k < rowBytes; k++) {
    bytes.set(base, (1 + k) * rowBytes);
    bytes[(1 + k) * rowBytes + k] ^= 1 << (k % 8);
  }
  const scanner = new BlackHoleScanner(rows, rowBytes, { engine: "wasm" });
  scanner.add(bytes);
  assert.equal(new Set(scanner.keys()).size, rows);
});

Deno.test("BlackHoleScanner checks block sizes and row counts", () => {
  const s = new BlackHoleScanner(3, 2);
  assert.throws(() => s.add(new Uint8Array(3)), /whole number of 2-byte rows/);
  s.add(new Uint8Array(4));
  assert.throws(() => s.candidates(), /only 2 of 3 rows/);
  assert.throws(() => s.add(new Uint8Array(4)), /too many rows/);
});

Deno.test("hashRowBytes() depends only on the bytes, not their alignment", () => {
  const row = new Uint8Array(37).map((_, i) => (i * 37 + 11) & 0xff);
  const keys = new Set<number>();
  for (let shift = 0; shift < 8; shift++) {
    const buf = new Uint8Array(64);
    buf.set(row, shift);
    const k = hashRowBytes(new DataView(buf.buffer), shift, row.length);
    assert.ok(Number.isSafeInteger(k) && k >= 0);
    keys.add(k);
  }
  assert.equal(keys.size, 1);
  // Flipping any single bit changes the key (every word and tail position).
  const base = hashRowBytes(new DataView(row.buffer), 0, row.length);
  for (let i = 0; i < row.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const m = row.slice();
      m[i] ^= 1 << bit;
      assert.notEqual(hashRowBytes(new DataView(m.buffer), 0, m.length), base);
    }
  }
});

Deno.test("centroid(), centroidNorm() and centroidDisplacement() by hand", () => {
  // Rows [1, 2], [3, 4], [5, 12]: mean [3, 6], norm sqrt(45).
  const a = new Float32Array([1, 2, 3, 4, 5, 12]);
  assert.deepEqual([...centroid(a, 3, 2)], [3, 6]);
  assert.equal(centroidNorm(a, 3, 2), Math.sqrt(45));
  // b's mean is [0, 2]: displacement |[3, 4]| = 5.
  const b = new Float32Array([0, 1, 0, 3, 0, 2]);
  assert.equal(centroidDisplacement(a, b, 3, 2), 5);
  // float64 accumulation: 2^24 + 1 + 1 - 2^24 is exact in float64 only.
  const big = new Float32Array([2 ** 24, 1, 1, -(2 ** 24)]);
  assert.equal(centroidNorm(big, 4, 1), 0.5);
  assert.throws(() => centroidNorm(a, 2, 2), BlackHoleError);
});

Deno.test("describeToken() labels byte tokens", () => {
  assert.equal(describeToken(97), "'a'");
  assert.equal(describeToken(32), "' '");
  assert.equal(describeToken(39), "'\\''");
  assert.equal(describeToken(92), "'\\\\'");
  assert.equal(describeToken(10), "\\n");
  assert.equal(describeToken(9), "\\t");
  assert.equal(describeToken(13), "\\r");
  assert.equal(describeToken(0), "\\x00");
  assert.equal(describeToken(27), "\\x1b");
  assert.equal(describeToken(127), "DEL");
  assert.equal(describeToken(200), "\\xc8");
  assert.throws(() => describeToken(256), RangeError);
});

// ---------------------------------------------------------------------------
// Non-finite rows (NaN, +-Inf) never form black holes.
// ---------------------------------------------------------------------------

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

type FloatDtype = "BF16" | "F16" | "F32" | "F64";

/** Element size and top-16-bit patterns of each format. */
const FORMATS: Record<FloatDtype, {
  size: number;
  nan: number;
  inf: number;
  maxFinite: number;
}> = {
  BF16: { size: 2, nan: 0x7fc0, inf: 0x7f80, maxFinite: 0x7f7f },
  F16: { size: 2, nan: 0x7e00, inf: 0x7c00, maxFinite: 0x7bff },
  F32: { size: 4, nan: 0x7fc0, inf: 0x7f80, maxFinite: 0x7f7f },
  F64: { size: 8, nan: 0x7ff8, inf: 0x7ff0, maxFinite: 0x7fef },
};

/**
 * A matrix of `rows` rows of `rowBytes` bytes in format `dtype`, with
 * distinct finite rows except for planted ones; returns it and the expected
 * clusters and non-finite rows.
 */
function plantedFloats(dtype: FloatDtype, rows: number, rowBytes: number) {
  const { size, nan, inf, maxFinite } = FORMATS[dtype];
  const bytes = new Uint8Array(rows * rowBytes);
  const view = new DataView(bytes.buffer);
  const elems = rowBytes / size;
  // Top 16 bits of element e of row r (little-endian: the last two bytes).
  const setTop = (r: number, e: number, top: number) =>
    view.setUint16(r * rowBytes + e * size + size - 2, top, true);
  for (let r = 0; r < rows; r++) {
    // Small finite values, distinct per row (row id in the low bytes of
    // element 0 for wide formats, in the mantissa for 16-bit ones).
    for (let e = 0; e < elems; e++) setTop(r, e, 0x3c00 + ((r * 7 + e) & 0xff));
    if (size > 2) view.setUint16(r * rowBytes, r, true);
    else setTop(r, 0, 0x3000 + (r & 0x3ff));
  }
  const copy = (from: number, to: number) =>
    bytes.copyWithin(to * rowBytes, from * rowBytes, (from + 1) * rowBytes);
  // Rows 1, 3, 8: identical NaN everywhere (a dead cluster of NaNs).
  for (let e = 0; e < elems; e++) setTop(1, e, nan);
  copy(1, 3);
  copy(1, 8);
  // Rows 2, 9: identical, +Inf in the last element only.
  setTop(2, elems - 1, inf);
  copy(2, 9);
  // Rows 4, 10: identical, negative NaN (sign set) in element 0 only.
  setTop(4, 0, 0x8000 | nan);
  copy(4, 10);
  // Rows 5, 11, 12: identical, -Inf in the middle element.
  setTop(5, elems >> 1, 0x8000 | inf);
  copy(5, 11);
  copy(5, 12);
  // Rows 6, 13: identical, the largest finite magnitude (a real cluster).
  setTop(6, elems - 1, 0x8000 | maxFinite);
  copy(6, 13);
  // Rows 0, rows - 1: identical finite rows (a real cluster).
  copy(0, rows - 1);
  return {
    bytes,
    clusters: [
      { population: 2, tokens: [0, rows - 1] },
      { population: 2, tokens: [6, 13] },
    ],
    nonFinite: [1, 2, 3, 4, 5, 8, 9, 10, 11, 12],
  };
}

Deno.test("non-finite rows are excluded in every stored format, engine and read mode", async () => {
  for (const dtype of ["BF16", "F16", "F32", "F64"] as const) {
    // 64-byte rows run through the SIMD kernel, 24-byte rows through JS.
    for (const rowBytes of [64, 128, 24]) {
      const rows = 40;
      const { bytes, clusters, nonFinite } = plantedFloats(
        dtype,
        rows,
        rowBytes,
      );
      const what = `${dtype}, ${rowBytes}-byte rows`;
      const engines = rowBytes % 64 === 0
        ? ["wasm", "js"] as const
        : ["js"] as const;
      for (const engine of engines) {
        const r = findBlackHoles({ bytes, rows, rowBytes }, { dtype, engine });
        assert.deepEqual(r.clusters, clusters, `${what}, ${engine}`);
        assert.deepEqual(r.nonFinite, nonFinite, `${what}, ${engine}`);
        assert.equal(r.C, 2);
        assert.equal(r.P, 4);
        assert.equal(r.distinct, rows - nonFinite.length - 4 + 2);
        // Streaming, in small blocks, both read modes.
        for (const reads of ["sync", "async"] as const) {
          const s = await findBlackHolesStreaming({
            rows,
            rowBytes,
            readRows: (start, count, into) => {
              into.set(
                bytes.subarray(start * rowBytes, (start + count) * rowBytes),
              );
              return Promise.resolve(into);
            },
            readRowsSync: (start, count, into) => {
              into.set(
                bytes.subarray(start * rowBytes, (start + count) * rowBytes),
              );
              return into;
            },
          }, { dtype, engine, reads, blockBytes: 3 * rowBytes });
          assert.deepEqual(
            s.clusters,
            clusters,
            `${what}, ${engine}, ${reads}`,
          );
          assert.deepEqual(
            s.nonFinite,
            nonFinite,
            `${what}, ${engine}, ${reads}`,
          );
        }
      }
      // Without a dtype rows are opaque bytes: the NaN rows do cluster.
      const raw = findBlackHoles({ bytes, rows, rowBytes });
      assert.deepEqual(raw.nonFinite, []);
      assert.equal(raw.C, 6);
    }
  }
});

Deno.test("the SIMD kernel flags exactly the rows a scalar check flags", () => {
  // Random rows where each element has a small chance of an all-ones
  // exponent; compare the kernel with a plain per-element reference.
  let s = 987654321;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  for (const dtype of ["BF16", "F16", "F32", "F64"] as const) {
    const { size } = FORMATS[dtype];
    const rows = 300;
    const rowBytes = 192;
    const bytes = new Uint8Array(rows * rowBytes);
    const view = new DataView(bytes.buffer);
    const expMask = dtype === "F16"
      ? 0x7c00
      : dtype === "F64"
      ? 0x7ff0
      : 0x7f80;
    for (let i = 0; i < bytes.length; i += 2) {
      view.setUint16(i, next() >>> 16, true);
    }
    // Clear the exponents' top bit so no element is non-finite by chance,
    // then plant all-ones exponents in ~1 of 4 rows, anywhere in the row.
    for (let i = size - 2; i < bytes.length; i += size) {
      view.setUint16(i, view.getUint16(i, true) & ~0x4000, true);
    }
    for (let r = 0; r < rows; r++) {
      if ((next() >>> 24) < 64) {
        const e = (next() >>> 8) % (rowBytes / size);
        const at = r * rowBytes + e * size + size - 2;
        view.setUint16(at, view.getUint16(at, true) | expMask, true);
      }
    }
    const expected: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (
        let at = r * rowBytes + size - 2;
        at < (r + 1) * rowBytes;
        at += size
      ) {
        if ((view.getUint16(at, true) & expMask) === expMask) {
          expected.push(r);
          break;
        }
      }
    }
    assert.ok(expected.length > 30 && expected.length < 120, dtype);
    for (const engine of ["wasm", "js"] as const) {
      const r = findBlackHoles({ bytes, rows, rowBytes }, { dtype, engine });
      assert.deepEqual(r.nonFinite, expected, `${dtype} ${engine}`);
    }
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
