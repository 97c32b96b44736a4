/**
 * Reading a safetensors file from disk. Model files are many gigabytes, so
 * {@linkcode openSafetensors} reads only the header and then serves single
 * tensors, row ranges and streamed row blocks with positioned reads of just
 * those bytes; nothing here ever reads a whole file.
 *
 * Positioned reads come from `node:fs` (`read`/`readSync` with a
 * `position`): `Deno.FsFile` has only seek-then-read, which on one shared
 * handle would need the reads queued one after another.
 *
 * @module
 */

import { closeSync, fstat, open } from "node:fs";
import { readAt, readAtSync } from "../read_at.ts";
import { rowBytesOf } from "./dtype.ts";
import { ioReason, SafetensorsError } from "./error.ts";
import {
  headerLengthFrom,
  lookup,
  parseHeader,
  rowRange,
  type SafetensorsHeader,
  type TensorInfo,
} from "./header.ts";

/** Options of {@linkcode SafetensorsFile.readRows}. */
export interface ReadRowsOptions {
  /**
   * Buffer to read into (its first `rowCount * rowBytes` bytes are used and
   * returned as a subarray), so streaming loops can reuse memory.
   */
  into?: Uint8Array;
}

/** Options of {@linkcode SafetensorsFile.rowBlocks}. */
export interface RowBlocksOptions {
  /** Approximate bytes per block (whole rows, at least one). Default 16 MiB. */
  blockBytes?: number;
  /** First row (default 0). */
  startRow?: number;
  /** Number of rows (default: to the end). */
  rowCount?: number;
}

/** One block of consecutive rows from {@linkcode SafetensorsFile.rowBlocks}. */
export interface RowBlock {
  /** Index of the block's first row. */
  startRow: number;
  /** Number of rows in the block. */
  rowCount: number;
  /** The rows' bytes; valid only until the iteration moves on. */
  bytes: Uint8Array;
}

/**
 * An open safetensors file. Only the header is in memory; tensor data is read
 * on request with positioned reads (`pread`), which never move a shared file
 * position, so any number of reads may overlap.
 */
export interface SafetensorsFile extends SafetensorsHeader {
  /** Tensor names in data order. */
  names(): string[];
  /** The header entry of `name`; throws listing the available names. */
  tensor(name: string): TensorInfo;
  /** All bytes of one tensor (one positioned read of just its range). */
  readTensorBytes(name: string): Promise<Uint8Array>;
  /**
   * Rows `[startRow, startRow + rowCount)` along the first dimension.
   * Throws `out-of-range` instead of reading outside the tensor.
   */
  readRows(
    name: string,
    startRow: number,
    rowCount: number,
    options?: ReadRowsOptions,
  ): Promise<Uint8Array>;
  /**
   * Like {@linkcode SafetensorsFile.readRows}, but blocking; it may run while
   * async reads are in flight. For many small reads, e.g. single rows: an
   * async read costs tens of microseconds of overhead, a blocking one a few.
   */
  readRowsSync(
    name: string,
    startRow: number,
    rowCount: number,
    options?: ReadRowsOptions,
  ): Uint8Array;
  /**
   * Streams a tensor in blocks of whole rows, reading the next block while the
   * caller works on the current one. The yielded bytes are reused two blocks
   * later: copy them if they must outlive the iteration step.
   */
  rowBlocks(name: string, options?: RowBlocksOptions): AsyncGenerator<RowBlock>;
  /**
   * Releases the file handle (once reads already under way have finished).
   * Further reads throw.
   */
  close(): void;
}

function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, "r", (e, fd) => e ? reject(e) : resolve(fd))
  );
}

function fstatOf(fd: number): Promise<{ isFile: boolean; size: number }> {
  return new Promise((resolve, reject) =>
    fstat(
      fd,
      (e, s) => e ? reject(e) : resolve({ isFile: s.isFile(), size: s.size }),
    )
  );
}

function truncated(path: string, at: number): SafetensorsError {
  return new SafetensorsError(
    "truncated",
    path,
    `unexpected end of file at byte ${at} (file changed while open?)`,
  );
}

/** Fills `into` from byte `offset` of `fd`, however many reads it takes. */
async function readFully(
  fd: number,
  offset: number,
  into: Uint8Array,
  path: string,
): Promise<void> {
  const got = await readAt(fd, offset, into);
  if (got < into.length) throw truncated(path, offset + got);
}

/** {@linkcode readFully}, blocking. */
function readFullySync(
  fd: number,
  offset: number,
  into: Uint8Array,
  path: string,
): void {
  const got = readAtSync(fd, offset, into);
  if (got < into.length) throw truncated(path, offset + got);
}

/**
 * Opens a safetensors file and validates its header; reads nothing else.
 *
 * @example Reading one embedding row
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSafetensors } from "./reader.ts";
 * import { writeSafetensors } from "./writer.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const data = new Float32Array([0, 1, 2, 3, 4, 5]); // 3 rows of 2
 *   await writeSafetensors(`${dir}/model.safetensors`, {
 *     "model.embed_tokens.weight": { dtype: "F32", shape: [3, 2], data },
 *   });
 *   const file = await openSafetensors(`${dir}/model.safetensors`);
 *   try {
 *     assert.deepEqual(file.names(), ["model.embed_tokens.weight"]);
 *     const row = await file.readRows("model.embed_tokens.weight", 2, 1);
 *     assert.deepEqual(new Float32Array(row.slice().buffer), new Float32Array([4, 5]));
 *   } finally {
 *     file.close();
 *   }
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let fd: number;
  try {
    fd = await openFd(path);
  } catch (e) {
    throw new SafetensorsError("io", path, `cannot open (${ioReason(e)})`);
  }
  try {
    const stat = await fstatOf(fd);
    if (!stat.isFile) {
      throw new SafetensorsError("io", path, "not a regular file");
    }
    const totalBytes = stat.size;
    const prefix = new Uint8Array(8);
    if (totalBytes >= 8) await readFully(fd, 0, prefix, path);
    const headerLength = headerLengthFrom(prefix, totalBytes, path);
    const headerBytes = new Uint8Array(headerLength);
    await readFully(fd, 8, headerBytes, path);
    const header = parseHeader(headerBytes, 8 + headerLength, totalBytes, path);
    return fileFromHeader(fd, header);
  } catch (e) {
    closeSync(fd);
    if (e instanceof SafetensorsError) throw e;
    throw new SafetensorsError("io", path, `cannot read (${ioReason(e)})`);
  }
}

/**
 * A file descriptor shared by overlapping positioned reads. It outlives
 * {@linkcode SharedDescriptor.close} until the reads under way have
 * finished: closed earlier, its number could be reused by another `open()`
 * and a pending read would fill the buffer from that file.
 */
class SharedDescriptor {
  readonly #fd: number;
  readonly #path: string;
  #closed = false; // no further reads may start
  #released = false; // the descriptor is closed
  #active = 0; // async reads under way

  constructor(fd: number, path: string) {
    this.#fd = fd;
    this.#path = path;
  }

  /** Throws when the file is closed. */
  checkOpen(): void {
    if (this.#closed) {
      throw new SafetensorsError("io", this.#path, "file is closed");
    }
  }

  /** Fills `into` from byte `offset`, without blocking. */
  async read(offset: number, into: Uint8Array): Promise<Uint8Array> {
    this.checkOpen();
    this.#active++;
    try {
      await readFully(this.#fd, offset, into, this.#path);
      return into;
    } catch (e) {
      throw this.#failed(e);
    } finally {
      this.#active--;
      this.#release();
    }
  }

  /** Fills `into` from byte `offset`, blocking. */
  readSync(offset: number, into: Uint8Array): Uint8Array {
    try {
      readFullySync(this.#fd, offset, into, this.#path);
    } catch (e) {
      throw this.#failed(e);
    }
    return into;
  }

  /** Refuses further reads; the descriptor closes once none is under way. */
  close(): void {
    this.#closed = true;
    this.#release();
  }

  #release(): void {
    if (this.#closed && this.#active === 0 && !this.#released) {
      this.#released = true;
      closeSync(this.#fd);
    }
  }

  #failed(e: unknown): SafetensorsError {
    return e instanceof SafetensorsError
      ? e
      : new SafetensorsError("io", this.#path, `read failed (${ioReason(e)})`);
  }
}

/**
 * Validated byte range and destination of a row read (shared with readers
 * of files that are not on disk, e.g. the census's hub files).
 */
export function rowReadPlan(
  header: SafetensorsHeader,
  name: string,
  startRow: number,
  rowCount: number,
  options: ReadRowsOptions,
): { offset: number; into: Uint8Array } {
  const range = rowRange(header, name, startRow, rowCount);
  if (options.into === undefined) {
    return { offset: range.offset, into: new Uint8Array(range.length) };
  }
  if (options.into.length < range.length) {
    throw new SafetensorsError(
      "invalid-argument",
      header.path,
      `readRows: buffer of ${options.into.length} bytes is smaller than the ${range.length} bytes requested`,
    );
  }
  return {
    offset: range.offset,
    into: options.into.subarray(0, range.length),
  };
}

/**
 * {@linkcode SafetensorsFile.rowBlocks}: blocks of whole rows read with
 * `readRows` into two buffers in turn, the next block in flight while the
 * caller works on the current one.
 */
export async function* streamRowBlocks(
  header: SafetensorsHeader,
  name: string,
  options: RowBlocksOptions,
  readRows: SafetensorsFile["readRows"],
): AsyncGenerator<RowBlock> {
  const info = lookup(header, name);
  const rows = info.shape.length === 0 ? 0 : info.shape[0];
  const rowBytes = rowBytesOf(info);
  const start = options.startRow ?? 0;
  const count = options.rowCount ?? rows - start;
  rowRange(header, name, start, count); // validates before any read
  const perBlock = Math.max(
    1,
    Math.floor(
      (options.blockBytes ?? 16 * 1024 * 1024) / Math.max(1, rowBytes),
    ),
  );
  const end = start + count;
  const buffers = [
    new Uint8Array(Math.min(perBlock, count) * rowBytes),
    new Uint8Array(Math.min(perBlock, count) * rowBytes),
  ];
  const request = (row: number, slot: number) => {
    const n = Math.min(perBlock, end - row);
    return readRows(name, row, n, { into: buffers[slot] });
  };
  let row = start;
  let slot = 0;
  let pending: Promise<Uint8Array> | null = row < end
    ? request(row, slot)
    : null;
  try {
    while (pending !== null) {
      const bytes = await pending;
      const n = Math.min(perBlock, end - row);
      const next = row + n;
      slot ^= 1;
      pending = next < end ? request(next, slot) : null;
      yield { startRow: row, rowCount: n, bytes };
      row = next;
    }
  } finally {
    // A consumer that stops early must not leave a read unobserved (its
    // failure would be an unhandled rejection).
    if (pending !== null) await pending.catch(() => {});
  }
}

function fileFromHeader(
  fd: number,
  header: SafetensorsHeader,
): SafetensorsFile {
  const descriptor = new SharedDescriptor(fd, header.path);
  const readRows = async (
    name: string,
    startRow: number,
    rowCount: number,
    options: ReadRowsOptions = {},
  ): Promise<Uint8Array> => {
    const plan = rowReadPlan(header, name, startRow, rowCount, options);
    return await descriptor.read(plan.offset, plan.into);
  };
  const readRowsSync = (
    name: string,
    startRow: number,
    rowCount: number,
    options: ReadRowsOptions = {},
  ): Uint8Array => {
    descriptor.checkOpen();
    const plan = rowReadPlan(header, name, startRow, rowCount, options);
    return descriptor.readSync(plan.offset, plan.into);
  };
  return {
    ...header,
    names: () => [...header.tensors.keys()],
    tensor: (name) => lookup(header, name),
    async readTensorBytes(name) {
      const info = lookup(header, name);
      return await descriptor.read(
        info.byteOffset,
        new Uint8Array(info.byteLength),
      );
    },
    readRows,
    readRowsSync,
    rowBlocks: (name, options = {}) =>
      streamRowBlocks(header, name, options, readRows),
    close() {
      descriptor.close();
    },
  };
}
