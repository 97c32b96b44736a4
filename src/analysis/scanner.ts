/**
 * The key table: row keys accumulate block by block in an open-addressing
 * table, so that finding repeated keys overlaps the reading of the next
 * block; then the candidate groups (rows with equal keys) are confirmed
 * byte for byte.
 *
 * Memory: 8 bytes per row plus the block buffers and candidate groups; row
 * bytes are not kept (except, up to a budget, those of rows whose key
 * repeats), so a caller streaming from disk re-reads only candidate rows.
 *
 * @module
 */

import { BlackHoleError } from "./black_hole_error.ts";
import { partitionEqual, reportOf } from "./partition.ts";
import { type Hasher, jsHasher, wasmHasher } from "./row_key/hasher.ts";
import { kernelModule } from "./row_key/kernel.ts";
import { nonFiniteSpec } from "./row_key/non_finite.ts";
import { hashRowBytes } from "./row_key/row_hash.ts";
import type {
  BlackHoleCluster,
  BlackHoleOptions,
  BlackHoleReport,
} from "./types.ts";

/** Matrices smaller than this are hashed in JavaScript under `"auto"`. */
const WASM_MIN_BYTES = 1 << 20;

/** Options of {@linkcode BlackHoleScanner}. */
export interface ScannerOptions extends BlackHoleOptions {
  /**
   * Rows per block buffer (see {@linkcode BlackHoleScanner.blockBuffers});
   * default: as many as fit in 4 MiB, at least 1.
   */
  blockRows?: number;
  /**
   * Up to this many bytes of rows whose key repeats are kept as blocks are
   * added (see {@linkcode BlackHoleScanner.captured}), so that a streaming
   * caller re-reads only rows whose first occurrence was in an earlier
   * block. Default 0 (keep nothing).
   */
  captureBytes?: number;
}

/**
 * Accumulates row hashes block by block, then resolves candidates exactly.
 * Memory: 8 bytes per row plus the block buffers and candidate groups; row
 * bytes are not kept, so a caller streaming from disk re-reads only the
 * candidate rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlackHoleScanner } from "./scanner.ts";
 * const bytes = new Uint8Array([4, 4, 5, 4]);
 * const s = new BlackHoleScanner(4, 1);
 * s.add(bytes.subarray(0, 2));
 * s.add(bytes.subarray(2));
 * const groups = s.candidates();
 * assert.deepEqual(groups, [[0, 1, 3]]);
 * const report = s.resolve(groups, (g) => Uint8Array.from(g, (r) => bytes[r]));
 * assert.equal(report.P, 3);
 * ```
 */
export class BlackHoleScanner {
  /** Number of rows expected. */
  readonly rows: number;
  /** Bytes per row. */
  readonly rowBytes: number;
  /** Rows per block buffer. */
  readonly blockRows: number;
  /** Which implementation hashes the rows. */
  readonly engine: "js" | "wasm";
  #keys: Float64Array;
  #tags: Int32Array;
  // 1 for rows holding NaN or ±Inf (null without a dtype): never clustered.
  #nonFinite: Uint8Array | null;
  #next = 0;
  #hasher: Hasher;
  // Open-addressing table of row + 1 (0 = empty), filled as blocks arrive so
  // that finding repeated keys overlaps the reading of the next block.
  #slots: Int32Array;
  #bits: number;
  #groups = new Map<number, number[]>(); // first row -> rows with its key
  #repeats: number[] = [];
  #captured = new Map<number, Uint8Array>();
  #captureLeft: number;

  /**
   * @param rows number of rows that will be added
   * @param rowBytes bytes per row
   */
  constructor(rows: number, rowBytes: number, options: ScannerOptions = {}) {
    if (!Number.isSafeInteger(rows) || rows < 0) {
      throw new BlackHoleError(
        `rows must be a non-negative integer, got ${rows}`,
      );
    }
    if (!Number.isSafeInteger(rowBytes) || rowBytes < 0) {
      throw new BlackHoleError(
        `rowBytes must be a non-negative integer, got ${rowBytes}`,
      );
    }
    const engine = options.engine ?? "auto";
    if (engine !== "auto" && engine !== "js" && engine !== "wasm") {
      throw new BlackHoleError(`unknown engine ${JSON.stringify(engine)}`);
    }
    this.rows = rows;
    this.rowBytes = rowBytes;
    this.blockRows = options.blockRows ??
      Math.max(
        1,
        Math.min(rows, Math.floor((4 << 20) / Math.max(1, rowBytes))),
      );
    if (!Number.isSafeInteger(this.blockRows) || this.blockRows < 1) {
      throw new BlackHoleError(
        `blockRows must be a positive integer, got ${this.blockRows}`,
      );
    }
    const spec = nonFiniteSpec(options.dtype, rowBytes);
    this.#keys = new Float64Array(rows);
    this.#tags = new Int32Array(rows);
    this.#nonFinite = spec === null ? null : new Uint8Array(rows);
    this.#captureLeft = options.captureBytes ?? 0;
    let bits = 1;
    while (2 ** bits < 2 * rows) bits++;
    this.#bits = bits;
    this.#slots = new Int32Array(2 ** bits);
    const module = kernelModule();
    const wasmFits = options.hash === undefined && rowBytes > 0 &&
      rowBytes % 64 === 0 && module !== null;
    if (engine === "wasm" && !wasmFits) {
      throw new BlackHoleError(
        module === null
          ? 'engine "wasm": WebAssembly SIMD is not available'
          : `engine "wasm" needs rows of a multiple of 64 bytes and no custom hash (rows are ${rowBytes} bytes)`,
      );
    }
    // Setting up the kernel costs ~0.1 ms: small matrices (a training
    // snapshot of 128 x 64) are hashed sooner in JavaScript.
    const large = rows * rowBytes >= WASM_MIN_BYTES;
    this.engine = engine === "wasm" || (engine === "auto" && wasmFits && large)
      ? "wasm"
      : "js";
    this.#hasher = this.engine === "wasm"
      ? wasmHasher(module!, rowBytes, this.blockRows, spec)
      : jsHasher(
        rowBytes,
        this.blockRows,
        options.hash ?? hashRowBytes,
        options.hash !== undefined,
        spec,
      );
    // Zero-width rows carry no bytes to add; they are all present at once.
    if (rowBytes === 0) this.#next = rows;
  }

  /** Number of rows added so far. */
  get added(): number {
    return this.#next;
  }

  /**
   * Two buffers of {@linkcode BlackHoleScanner.blockRows} rows each. Blocks
   * read into them (e.g. alternately, one being read while the other is
   * hashed) are hashed without a copy.
   */
  blockBuffers(): [Uint8Array, Uint8Array] {
    return this.#hasher.buffers;
  }

  /**
   * Hashes the next rows; `block` must hold whole rows and they must come in
   * order from row 0. The block is not retained.
   */
  add(block: Uint8Array): void {
    const rb = this.rowBytes;
    const n = rb === 0 ? (block.length === 0 ? 0 : NaN) : block.length / rb;
    if (!Number.isInteger(n)) {
      throw new BlackHoleError(
        `block of ${block.length} bytes is not a whole number of ${rb}-byte rows`,
      );
    }
    if (this.#next + n > this.rows) {
      throw new BlackHoleError(
        `too many rows: ${this.#next + n} added, ${this.rows} expected`,
      );
    }
    if (n === 0) return;
    const first = this.#next;
    this.#hasher.hash(block, this.#keys, this.#tags, first, this.#nonFinite);
    this.#next += n;
    const repeats = this.#insert(first, this.#next);
    if (this.#captureLeft > 0) {
      // Keep the bytes of rows whose key repeats while they are at hand, so
      // that confirming them later needs no second read.
      for (let i = 0; i < repeats.length; i++) {
        const row = repeats[i];
        if (row >= first && !this.#captured.has(row)) {
          if (this.#captureLeft < rb) break;
          this.#captureLeft -= rb;
          const at = (row - first) * rb;
          this.#captured.set(row, block.slice(at, at + rb));
        }
      }
    }
  }

  /**
   * The bytes of `row` if they were kept while its block was added (see
   * {@linkcode ScannerOptions.captureBytes}).
   */
  captured(row: number): Uint8Array | undefined {
    return this.#captured.get(row);
  }

  /**
   * Enters rows `[from, to)` in the key table, noting repeated keys; returns
   * the rows of this range that repeat a key, each with the first row of its
   * key (which may lie in an earlier block). Non-finite rows are left out.
   */
  #insert(from: number, to: number): number[] {
    const repeats = this.#repeats;
    repeats.length = 0;
    const keys = this.#keys;
    const tags = this.#tags;
    const slots = this.#slots;
    const shift = 32 - this.#bits;
    const mask = slots.length - 1;
    const skip = this.#nonFinite;
    for (let r = from; r < to; r++) {
      if (skip !== null && skip[r] !== 0) continue;
      const k = keys[r];
      let s = tags[r] >>> shift;
      while (true) {
        const v = slots[s];
        if (v === 0) {
          slots[s] = r + 1;
          break;
        }
        if (keys[v - 1] === k) {
          const g = this.#groups.get(v - 1);
          if (g === undefined) {
            this.#groups.set(v - 1, [v - 1, r]);
            repeats.push(v - 1);
          } else g.push(r);
          repeats.push(r);
          break;
        }
        s = (s + 1) & mask;
      }
    }
    return repeats;
  }

  /** The keys of all rows (for tests and diagnostics); a copy. */
  keys(): Float64Array {
    return this.#keys.slice();
  }

  /**
   * Rows holding a NaN or ±Inf, ascending (empty without a dtype); they are
   * in no candidate group.
   */
  nonFiniteRows(): number[] {
    const out: number[] = [];
    const flags = this.#nonFinite;
    if (flags !== null) {
      for (let r = flags.indexOf(1); r >= 0; r = flags.indexOf(1, r + 1)) {
        out.push(r);
      }
    }
    return out;
  }

  /**
   * Groups of at least two rows with equal keys, each ascending, ordered by
   * first row. Only these rows can be in clusters.
   */
  candidates(): number[][] {
    this.#requireComplete();
    if (this.rowBytes === 0) {
      // Every zero-length row equals every other.
      return this.rows >= 2
        ? [Array.from({ length: this.rows }, (_, i) => i)]
        : [];
    }
    return [...this.#groups.values()]
      .map((g) => g.slice())
      .sort((x, y) => x[0] - y[0]);
  }

  /**
   * The report, given the bytes of the candidate rows: `rowsOf(group)`
   * returns one buffer holding the group's rows back to back, in the group's
   * order.
   */
  resolve(
    groups: number[][],
    rowsOf: (group: number[]) => Uint8Array,
  ): BlackHoleReport {
    const clusters: BlackHoleCluster[] = [];
    for (const group of groups) {
      const bytes = rowsOf(group);
      if (bytes.length !== group.length * this.rowBytes) {
        throw new BlackHoleError(
          `candidate rows: got ${bytes.length} bytes for ${group.length} rows of ${this.rowBytes}`,
        );
      }
      for (const part of partitionEqual(bytes, group, this.rowBytes)) {
        if (part.length >= 2) {
          clusters.push({ population: part.length, tokens: part });
        }
      }
    }
    return reportOf(this.rows, clusters, this.nonFiniteRows());
  }

  #requireComplete() {
    if (this.#next !== this.rows) {
      throw new BlackHoleError(
        `only ${this.#next} of ${this.rows} rows were added`,
      );
    }
  }
}
