import assert from "node:assert/strict";
import { findBlackHolesStreaming } from "./scan.ts";
import { plantedCases, sixRows } from "../testing/matrices.ts";

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

Deno.test("the streaming scan excludes non-finite rows in every stored format, engine and read mode", async () => {
  for (const c of plantedCases()) {
    const { bytes, rows, rowBytes, dtype, clusters, nonFinite, what } = c;
    const slice = (start: number, count: number) =>
      bytes.subarray(start * rowBytes, (start + count) * rowBytes);
    for (const engine of c.engines) {
      // In small blocks, both read modes.
      for (const reads of ["sync", "async"] as const) {
        const s = await findBlackHolesStreaming({
          rows,
          rowBytes,
          readRows: (start, count, into) => {
            into.set(slice(start, count));
            return Promise.resolve(into);
          },
          readRowsSync: (start, count, into) => {
            into.set(slice(start, count));
            return into;
          },
        }, { dtype, engine, reads, blockBytes: 3 * rowBytes });
        const label = `${what}, ${engine}, ${reads}`;
        assert.deepEqual(s.clusters, clusters, label);
        assert.deepEqual(s.nonFinite, nonFinite, label);
      }
    }
  }
});
