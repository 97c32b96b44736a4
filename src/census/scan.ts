/**
 * The census's scan: a matrix too large for memory, read from disk in row
 * blocks into the key table (`analysis/scanner.ts`), then only its
 * candidate rows read again to be confirmed byte for byte.
 *
 * @module
 */

import { BlackHoleError } from "../analysis/black_hole_error.ts";
import { BlackHoleScanner } from "../analysis/scanner.ts";
import type { BlackHoleOptions, BlackHoleReport } from "../analysis/types.ts";

/** A matrix read on demand, see {@linkcode findBlackHolesStreaming}. */
interface StreamingMatrix {
  /** Number of rows. */
  rows: number;
  /** Bytes per row. */
  rowBytes: number;
  /**
   * Reads rows `[start, start + count)` into `into` (exactly
   * `count * rowBytes` bytes) and returns them, normally as `into` itself
   * (returning other memory works, at the cost of a copy).
   */
  readRows(start: number, count: number, into: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional blocking variant, used for the many small reads that confirm
   * candidates (async reads cost ~0.1 ms each in overhead).
   */
  readRowsSync?(start: number, count: number, into: Uint8Array): Uint8Array;
}

/**
 * Default read size of {@linkcode findBlackHolesStreaming}: 1 MiB, so that a
 * block is still in the CPU's L2 cache when it is hashed right after being
 * read. Measured on a 2-core AMD EPYC (1 MiB L2 per core) with blocking
 * reads: 1-2 MiB beat 256 KiB, 512 KiB and 4 MiB.
 */
export const DEFAULT_BLOCK_BYTES = 1 << 20;

/** Options of {@linkcode findBlackHolesStreaming}. */
export interface StreamingOptions extends BlackHoleOptions {
  /**
   * How blocks are read. `"sync"` (default when the matrix has
   * `readRowsSync`): blocking reads, then hashing, in turn. `"async"`: the
   * next block is read while the current one is hashed. Measured on a busy
   * 2-core machine, blocking reads cost less CPU (no hand-off to an I/O
   * thread) and won; the async pipeline keeps the event loop free.
   */
  reads?: "sync" | "async";
  /**
   * Bytes of repeating rows kept during the scan to spare a second read
   * (see `ScannerOptions.captureBytes` in analysis/scanner.ts); default 64 MiB.
   */
  captureBytes?: number;
  /**
   * Bytes per read (whole rows, at least one); default
   * {@linkcode DEFAULT_BLOCK_BYTES}.
   */
  blockBytes?: number;
}

/**
 * Finds the black holes of a matrix too large for memory. One pass reads
 * the matrix in blocks, the next block being read while the current one is
 * hashed; then only the candidate rows (in practice the cluster members) are
 * read again to confirm them byte for byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findBlackHolesStreaming } from "./scan.ts";
 * const bytes = new Uint8Array([5, 6, 5, 6, 9, 9]);
 * const r = await findBlackHolesStreaming({
 *   rows: 3,
 *   rowBytes: 2,
 *   readRows: (start, count, into) => {
 *     into.set(bytes.subarray(start * 2, (start + count) * 2));
 *     return Promise.resolve(into);
 *   },
 * });
 * assert.deepEqual(r.clusters, [{ population: 2, tokens: [0, 1] }]);
 * ```
 */
export async function findBlackHolesStreaming(
  matrix: StreamingMatrix,
  options: StreamingOptions = {},
): Promise<BlackHoleReport> {
  const { rows, rowBytes: rb } = matrix;
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  if (!Number.isSafeInteger(blockBytes) || blockBytes < 1) {
    throw new BlackHoleError(
      `blockBytes must be a positive integer, got ${blockBytes}`,
    );
  }
  const blockRows = Math.max(
    1,
    Math.min(rows, Math.floor(blockBytes / Math.max(1, rb))),
  );
  const scanner = new BlackHoleScanner(rows, rb, {
    captureBytes: 64 << 20,
    ...options,
    blockRows,
  });
  const buffers = scanner.blockBuffers();
  const checked = (start: number, count: number, got: Uint8Array) => {
    if (!(got instanceof Uint8Array) || got.length !== count * rb) {
      throw new BlackHoleError(
        `readRows(${start}, ${count}) returned ${
          got instanceof Uint8Array ? got.length : "no"
        } bytes, expected ${count * rb}`,
      );
    }
    return got;
  };
  const read = async (start: number, count: number, into: Uint8Array) =>
    checked(start, count, await matrix.readRows(start, count, into));
  const request = (start: number, slot: number) => {
    const n = Math.min(blockRows, rows - start);
    return read(start, n, buffers[slot].subarray(0, n * rb));
  };

  const reads = options.reads ??
    (matrix.readRowsSync !== undefined ? "sync" : "async");
  if (reads === "sync" && matrix.readRowsSync === undefined) {
    throw new BlackHoleError('reads: "sync" needs matrix.readRowsSync');
  }
  if (reads === "sync" && rb > 0) {
    const into = buffers[0];
    for (let start = 0; start < rows;) {
      const n = Math.min(blockRows, rows - start);
      scanner.add(
        checked(
          start,
          n,
          matrix.readRowsSync!(start, n, into.subarray(0, n * rb)),
        ),
      );
      start += n;
    }
  } else if (rb > 0 && rows > 0) {
    let pending: Promise<Uint8Array> | null = request(0, 0);
    let slot = 0;
    try {
      for (let start = 0; start < rows;) {
        const block: Uint8Array = await pending!;
        const next = start + block.length / rb;
        slot ^= 1;
        pending = next < rows ? request(next, slot) : null;
        scanner.add(block);
        start = next;
      }
    } finally {
      // Never leave a read in flight (or its rejection unhandled).
      if (pending !== null) await pending.catch(() => {});
    }
  }

  const groups = scanner.candidates();
  const fetched = new Map<number[], Uint8Array>();
  for (const group of groups) {
    const out = new Uint8Array(group.length * rb);
    for (let i = 0; i < group.length;) {
      const kept = scanner.captured(group[i]);
      if (kept !== undefined) {
        out.set(kept, i * rb);
        i++;
        continue;
      }
      // Rows not kept are read again, a run of consecutive ids (e.g.
      // padding rows) per request.
      let j = i + 1;
      while (
        j < group.length && group[j] === group[j - 1] + 1 &&
        scanner.captured(group[j]) === undefined
      ) j++;
      const run = out.subarray(i * rb, j * rb);
      const got = matrix.readRowsSync !== undefined
        ? checked(group[i], j - i, matrix.readRowsSync(group[i], j - i, run))
        : await read(group[i], j - i, run);
      if (got !== run) run.set(got);
      i = j;
    }
    fetched.set(group, out);
  }
  return scanner.resolve(groups, (g) => fetched.get(g)!);
}
