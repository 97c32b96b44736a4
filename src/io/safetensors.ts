/**
 * Reading and writing `.safetensors` files.
 *
 * The format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian unsigned length `N`, then `N` bytes of UTF-8 JSON mapping each
 * tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative
 * to the start of the data section) plus an optional `"__metadata__"` map of
 * strings, then the data section. Tensors are stored row-major, little-endian.
 *
 * Model files are many gigabytes, so {@linkcode openSafetensors} reads only the
 * header and then serves positioned reads of single tensors or row blocks;
 * nothing here ever reads a whole file. Every offset in the header is checked
 * before it is used, so a damaged or hostile file gives a
 * {@linkcode SafetensorsError} instead of an out-of-bounds read.
 *
 * Byte order: typed-array inputs to the writers are taken as their bytes in
 * platform order, which is little-endian on every platform Deno supports.
 *
 * @module
 */

import { tempPathFor, trackTemp, untrackTemp } from "./temp_files.ts";

/** Element types of the safetensors format and their size in bytes. */
export const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

/** A safetensors element type name, e.g. `"BF16"`. */
export type Dtype = keyof typeof DTYPE_SIZES;

/**
 * Whether `name` is a dtype this module knows.
 *
 * @example
 * ```ts
 * import { isDtype } from "./safetensors.ts";
 * isDtype("BF16"); // true
 * isDtype("bf16"); // false: names are upper case in the format
 * ```
 */
export function isDtype(name: string): name is Dtype {
  return Object.hasOwn(DTYPE_SIZES, name);
}

/** Largest header this reader accepts: 100 MiB. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** What is wrong with a safetensors file or a write request. */
export type SafetensorsErrorCode =
  | "io"
  | "truncated"
  | "header-too-large"
  | "invalid-header"
  | "invalid-tensor"
  | "invalid-offsets"
  | "unknown-tensor"
  | "out-of-range"
  | "invalid-argument"
  | "writer-state";

/**
 * A safetensors file cannot be read or written as asked. The message names
 * the file and the problem; `code` says it for programs.
 *
 * @example
 * ```ts
 * import { parseSafetensors, SafetensorsError } from "./safetensors.ts";
 * try {
 *   parseSafetensors(new Uint8Array(3));
 * } catch (e) {
 *   if (!(e instanceof SafetensorsError)) throw e;
 *   console.log(e.code); // "truncated"
 * }
 * ```
 */
export class SafetensorsError extends Error {
  /** Machine-readable reason. */
  readonly code: SafetensorsErrorCode;
  /** The file concerned (`"<buffer>"` for in-memory data). */
  readonly path: string;

  /** Builds the error; the message is prefixed with `path`. */
  constructor(code: SafetensorsErrorCode, path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "SafetensorsError";
    this.code = code;
    this.path = path;
  }
}

/** Where one tensor lives and what it holds. */
export interface TensorInfo {
  /** Tensor name as in the header. */
  readonly name: string;
  /** Element type. */
  readonly dtype: Dtype;
  /** Dimensions, outermost first; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** `data_offsets` as in the header, relative to the data section. */
  readonly dataOffsets: readonly [number, number];
  /** Absolute offset of the first byte in the file (or buffer). */
  readonly byteOffset: number;
  /** Number of bytes: product(shape) * size of dtype. */
  readonly byteLength: number;
}

/** Header facts shared by files and buffers. */
export interface SafetensorsHeader {
  /** Where the data came from (file path or `"<buffer>"`), used in messages. */
  readonly path: string;
  /** The `"__metadata__"` map, `{}` when absent. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors by name, in data order (ascending offset). */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Length `N` of the JSON header in bytes. */
  readonly headerLength: number;
  /** Absolute offset of the data section: `8 + N`. */
  readonly dataStart: number;
  /** Total size of the file or buffer in bytes. */
  readonly totalBytes: number;
}

/**
 * Element count of a shape; throws a plain RangeError past 2^53.
 *
 * @example
 * ```ts
 * import { shapeSize } from "./safetensors.ts";
 * shapeSize([3, 4]); // 12
 * shapeSize([]); // 1 (a scalar)
 * ```
 */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) {
      throw new RangeError(`shape [${shape.join(", ")}] is too large`);
    }
  }
  return n;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Validates the JSON header against a data section of `dataLength` bytes.
 * Follows the reference implementation: ranges must tile the data section
 * exactly (no overlap, no hole, no trailing bytes).
 */
function parseHeader(
  headerBytes: Uint8Array,
  dataStart: number,
  totalBytes: number,
  path: string,
): SafetensorsHeader {
  const headerLength = headerBytes.length;
  const dataLength = totalBytes - dataStart;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(
      "invalid-header",
      path,
      "header is not valid UTF-8",
    );
  }
  // The spec requires the JSON to start at the first byte; trailing spaces are
  // the writer's alignment padding and JSON.parse accepts them.
  if (!text.startsWith("{")) {
    throw new SafetensorsError(
      "invalid-header",
      path,
      "header does not start with '{' (not a safetensors file?)",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(
      "invalid-header",
      path,
      `header is not valid JSON (${(e as Error).message})`,
    );
  }
  if (!isPlainObject(json)) {
    throw new SafetensorsError(
      "invalid-header",
      path,
      "header JSON is not an object",
    );
  }

  let metadata: Record<string, string> = {};
  const entries: TensorInfo[] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(raw, path);
      continue;
    }
    entries.push(parseEntry(name, raw, dataStart, dataLength, path));
  }

  entries.sort((a, b) =>
    a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]
  );
  let covered = 0;
  let previous = "";
  for (const t of entries) {
    const [begin, end] = t.dataOffsets;
    if (begin < covered) {
      throw new SafetensorsError(
        "invalid-offsets",
        path,
        `tensor "${t.name}" bytes [${begin}, ${end}) overlap tensor "${previous}" (which ends at ${covered})`,
      );
    }
    if (begin > covered) {
      throw new SafetensorsError(
        "invalid-offsets",
        path,
        `hole in the data section: bytes [${covered}, ${begin}) before tensor "${t.name}" belong to no tensor`,
      );
    }
    covered = end;
    previous = t.name;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(
      "invalid-offsets",
      path,
      `data section is ${dataLength} bytes but the tensors cover ${covered}` +
        ` (${dataLength - covered} trailing bytes belong to no tensor)`,
    );
  }

  return {
    path,
    metadata,
    tensors: new Map(entries.map((t) => [t.name, t])),
    headerLength,
    dataStart,
    totalBytes,
  };
}

function parseMetadata(raw: unknown, path: string): Record<string, string> {
  if (!isPlainObject(raw)) {
    throw new SafetensorsError(
      "invalid-header",
      path,
      `"__metadata__" is not an object of strings`,
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") {
      throw new SafetensorsError(
        "invalid-header",
        path,
        `"__metadata__" value for "${k}" is not a string`,
      );
    }
    out[k] = v;
  }
  return out;
}

function parseEntry(
  name: string,
  raw: unknown,
  dataStart: number,
  dataLength: number,
  path: string,
): TensorInfo {
  const bad = (code: SafetensorsErrorCode, what: string) =>
    new SafetensorsError(code, path, `tensor "${name}": ${what}`);
  if (!isPlainObject(raw)) {
    throw bad("invalid-tensor", "entry is not an object");
  }
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== "string" || !isDtype(dtype)) {
    throw bad(
      "invalid-tensor",
      `unknown dtype ${JSON.stringify(dtype)} (known: ${
        Object.keys(DTYPE_SIZES).join(", ")
      })`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    throw bad(
      "invalid-tensor",
      `shape ${JSON.stringify(shape)} is not an array of non-negative integers`,
    );
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every(isNonNegativeInt) || offsets[0] > offsets[1]
  ) {
    throw bad(
      "invalid-offsets",
      `data_offsets ${
        JSON.stringify(offsets)
      } is not [begin, end] with integers 0 <= begin <= end`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw bad(
      "invalid-offsets",
      `data_offsets end ${end} is beyond the data section (${dataLength} bytes; file truncated?)`,
    );
  }
  let elements: number;
  try {
    elements = shapeSize(shape);
  } catch {
    throw bad("invalid-tensor", `shape [${shape.join(", ")}] is too large`);
  }
  const expected = elements * DTYPE_SIZES[dtype];
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    throw bad(
      "invalid-tensor",
      `${dtype} [${
        shape.join(", ")
      }] needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${
        end - begin
      }`,
    );
  }
  return {
    name,
    dtype,
    shape: Object.freeze([...shape]),
    dataOffsets: Object.freeze([begin, end]) as readonly [number, number],
    byteOffset: dataStart + begin,
    byteLength: end - begin,
  };
}

/** Reads the 8-byte length prefix and checks it against size and cap. */
function headerLengthFrom(
  prefix: Uint8Array,
  totalBytes: number,
  path: string,
): number {
  if (totalBytes < 8) {
    throw new SafetensorsError(
      "truncated",
      path,
      `file is ${totalBytes} bytes, too short for the 8-byte header length`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(
    0,
    true,
  );
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      "header-too-large",
      path,
      `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte (100 MiB) cap`,
    );
  }
  if (n > BigInt(totalBytes - 8)) {
    throw new SafetensorsError(
      "truncated",
      path,
      `header length ${n} exceeds the ${
        totalBytes - 8
      } bytes after the length prefix (file truncated or not safetensors)`,
    );
  }
  return Number(n);
}

function lookup(header: SafetensorsHeader, name: string): TensorInfo {
  const info = header.tensors.get(name);
  if (info === undefined) {
    const names = [...header.tensors.keys()];
    const shown = names.length > 20
      ? `${names.slice(0, 20).join(", ")}, ... (${names.length} in all)`
      : names.join(", ");
    throw new SafetensorsError(
      "unknown-tensor",
      header.path,
      `no tensor named "${name}"; available: ${shown || "(none)"}`,
    );
  }
  return info;
}

/** Byte range of rows `[startRow, startRow + rowCount)` of a tensor. */
function rowRange(
  header: SafetensorsHeader,
  name: string,
  startRow: number,
  rowCount: number,
): { offset: number; length: number } {
  const info = lookup(header, name);
  if (info.shape.length === 0) {
    throw new SafetensorsError(
      "out-of-range",
      header.path,
      `tensor "${name}" is a scalar and has no rows`,
    );
  }
  const rows = info.shape[0];
  if (
    !isNonNegativeInt(startRow) || !isNonNegativeInt(rowCount) ||
    startRow + rowCount > rows
  ) {
    throw new SafetensorsError(
      "out-of-range",
      header.path,
      `rows [${startRow}, ${
        startRow + rowCount
      }) are outside tensor "${name}" (${rows} rows)`,
    );
  }
  const rowBytes = rows === 0 ? 0 : info.byteLength / rows;
  return {
    offset: info.byteOffset + startRow * rowBytes,
    length: rowCount * rowBytes,
  };
}

/**
 * Bytes per row (first dimension) of a tensor.
 *
 * @example
 * ```ts
 * import { rowBytesOf } from "./safetensors.ts";
 * rowBytesOf({ dtype: "BF16", shape: [10, 64] }); // 128
 * ```
 */
export function rowBytesOf(
  info: { dtype: Dtype; shape: readonly number[] },
): number {
  return shapeSize(info.shape.slice(1)) * DTYPE_SIZES[info.dtype];
}

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
 * on request with positioned reads. Reads are serialized internally, so
 * overlapping calls are safe.
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
   * Like {@linkcode SafetensorsFile.readRows}, but blocking, on a second file
   * handle (so it may run while async reads are in flight). For many small
   * reads, e.g. single rows: an async read costs ~0.1 ms of overhead, a
   * blocking one a few microseconds.
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
  /** Releases the file handle. Further reads throw. */
  close(): void;
}

/** A file handle and where its position is known to be (-1: unknown). */
interface Handle {
  file: Deno.FsFile;
  position: number;
}

async function readExactAt(
  handle: Handle,
  offset: number,
  into: Uint8Array,
  path: string,
): Promise<void> {
  const { file } = handle;
  // seekSync, not seek: an async seek would delay the read until the caller
  // yields to the event loop, so a prefetch could not overlap the caller's
  // work (e.g. hashing the previous block). Sequential reads skip it.
  if (handle.position !== offset) file.seekSync(offset, Deno.SeekMode.Start);
  handle.position = -1; // until this read has fully succeeded
  let got = 0;
  while (got < into.length) {
    const n = await file.read(into.subarray(got));
    if (n === null) {
      throw new SafetensorsError(
        "truncated",
        path,
        `unexpected end of file at byte ${
          offset + got
        } (file changed while open?)`,
      );
    }
    got += n;
  }
  handle.position = offset + got;
}

/**
 * Opens a safetensors file and validates its header; reads nothing else.
 *
 * @example Reading one embedding row
 * ```ts ignore
 * import { openSafetensors } from "./safetensors.ts";
 * const file = await openSafetensors("model.safetensors");
 * try {
 *   console.log(file.names());
 *   const row = await file.readRows("model.embed_tokens.weight", 42, 1);
 * } finally {
 *   file.close();
 * }
 * ```
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new SafetensorsError("io", path, `cannot open (${ioReason(e)})`);
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile) {
      throw new SafetensorsError("io", path, "not a regular file");
    }
    const totalBytes = stat.size;
    const handle: Handle = { file, position: 0 };
    const prefix = new Uint8Array(8);
    if (totalBytes >= 8) await readExactAt(handle, 0, prefix, path);
    const headerLength = headerLengthFrom(prefix, totalBytes, path);
    const headerBytes = new Uint8Array(headerLength);
    await readExactAt(handle, 8, headerBytes, path);
    const header = parseHeader(headerBytes, 8 + headerLength, totalBytes, path);
    return fileFromHeader(handle, header);
  } catch (e) {
    file.close();
    if (e instanceof SafetensorsError) throw e;
    throw new SafetensorsError("io", path, `cannot read (${ioReason(e)})`);
  }
}

function ioReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message : String(e);
}

function fileFromHeader(
  handle: Handle,
  header: SafetensorsHeader,
): SafetensorsFile {
  const { file } = handle;
  let closed = false;
  // Seek + read is two steps on one handle: reads run one at a time so that
  // concurrent callers (e.g. prefetching in rowBlocks) cannot interleave them.
  // An idle handle starts the read at once, synchronously, so the read is
  // already under way while the caller goes on computing.
  let active = 0; // reads started or queued and not yet finished
  let tail: Promise<unknown> = Promise.resolve();
  const readAt = (offset: number, into: Uint8Array): Promise<Uint8Array> => {
    if (closed) {
      return Promise.reject(
        new SafetensorsError("io", header.path, "file is closed"),
      );
    }
    const start = async () => {
      try {
        if (closed) {
          throw new SafetensorsError("io", header.path, "file is closed");
        }
        await readExactAt(handle, offset, into, header.path);
        return into;
      } catch (e) {
        if (e instanceof SafetensorsError) throw e;
        throw new SafetensorsError(
          "io",
          header.path,
          `read failed (${ioReason(e)})`,
        );
      } finally {
        // Counted down before `run` settles, so whoever awaits it sees an
        // idle handle and its next read starts at once.
        active--;
      }
    };
    active++;
    const run = active === 1 ? start() : tail.then(start);
    tail = run.catch(() => {});
    return run;
  };

  /** Validated byte range and destination of a row read. */
  const planRows = (
    name: string,
    startRow: number,
    rowCount: number,
    options: ReadRowsOptions,
  ): { offset: number; into: Uint8Array } => {
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
  };

  const readRows = (
    name: string,
    startRow: number,
    rowCount: number,
    options: ReadRowsOptions = {},
  ): Promise<Uint8Array> => {
    try {
      const { offset, into } = planRows(name, startRow, rowCount, options);
      return readAt(offset, into);
    } catch (e) {
      return Promise.reject(e);
    }
  };

  let syncHandle: Handle | null = null;
  const readRowsSync = (
    name: string,
    startRow: number,
    rowCount: number,
    options: ReadRowsOptions = {},
  ): Uint8Array => {
    if (closed) throw new SafetensorsError("io", header.path, "file is closed");
    const { offset, into } = planRows(name, startRow, rowCount, options);
    try {
      syncHandle ??= {
        file: Deno.openSync(header.path, { read: true }),
        position: 0,
      };
      const h = syncHandle;
      // Consecutive reads (a tensor streamed block by block) skip the seek.
      if (h.position !== offset) h.file.seekSync(offset, Deno.SeekMode.Start);
      h.position = -1; // until this read has fully succeeded
      let got = 0;
      while (got < into.length) {
        const n = h.file.readSync(into.subarray(got));
        if (n === null) {
          throw new SafetensorsError(
            "truncated",
            header.path,
            `unexpected end of file at byte ${
              offset + got
            } (file changed while open?)`,
          );
        }
        got += n;
      }
      h.position = offset + got;
    } catch (e) {
      if (e instanceof SafetensorsError) throw e;
      throw new SafetensorsError(
        "io",
        header.path,
        `read failed (${ioReason(e)})`,
      );
    }
    return into;
  };

  async function* rowBlocks(
    name: string,
    options: RowBlocksOptions = {},
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
      // A consumer that stops early must not leave a read in flight on a
      // handle it is about to close.
      if (pending !== null) await pending.catch(() => {});
    }
  }

  return {
    ...header,
    names: () => [...header.tensors.keys()],
    tensor: (name) => lookup(header, name),
    readTensorBytes(name) {
      let info: TensorInfo;
      try {
        info = lookup(header, name);
      } catch (e) {
        return Promise.reject(e);
      }
      return readAt(info.byteOffset, new Uint8Array(info.byteLength));
    },
    readRows,
    readRowsSync,
    rowBlocks,
    close() {
      if (closed) return;
      closed = true;
      file.close();
      syncHandle?.file.close();
    },
  };
}

/** An in-memory safetensors buffer, see {@linkcode parseSafetensors}. */
export interface SafetensorsBuffer extends SafetensorsHeader {
  /** Tensor names in data order. */
  names(): string[];
  /** The header entry of `name`; throws listing the available names. */
  tensor(name: string): TensorInfo;
  /** The tensor's bytes as a view into the parsed buffer (no copy). */
  tensorBytes(name: string): Uint8Array;
  /** Rows `[startRow, startRow + rowCount)` as a view (no copy). */
  rows(name: string, startRow: number, rowCount: number): Uint8Array;
}

/**
 * Parses and validates safetensors bytes already in memory (same checks as
 * {@linkcode openSafetensors}).
 *
 * @example
 * ```ts
 * import { parseSafetensors } from "./safetensors.ts";
 * const header = '{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}';
 * const json = new TextEncoder().encode(header);
 * const bytes = new Uint8Array(8 + json.length + 2);
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
 * bytes.set(json, 8);
 * bytes.set([7, 9], 8 + json.length);
 * parseSafetensors(bytes).tensorBytes("x"); // Uint8Array [7, 9]
 * ```
 */
export function parseSafetensors(
  bytes: Uint8Array,
  options: { path?: string } = {},
): SafetensorsBuffer {
  const path = options.path ?? "<buffer>";
  const headerLength = headerLengthFrom(bytes, bytes.length, path);
  const header = parseHeader(
    bytes.subarray(8, 8 + headerLength),
    8 + headerLength,
    bytes.length,
    path,
  );
  return {
    ...header,
    names: () => [...header.tensors.keys()],
    tensor: (name) => lookup(header, name),
    tensorBytes(name) {
      const info = lookup(header, name);
      return bytes.subarray(info.byteOffset, info.byteOffset + info.byteLength);
    },
    rows(name, startRow, rowCount) {
      const { offset, length } = rowRange(header, name, startRow, rowCount);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** Name, dtype and shape of a tensor to be written. */
export interface TensorSpec {
  /** Tensor name; `"__metadata__"` is reserved. */
  name: string;
  /** Element type. */
  dtype: Dtype;
  /** Dimensions, outermost first. */
  shape: readonly number[];
}

/** A tensor to write: dtype, shape and its raw bytes. */
export interface TensorData {
  /** Element type. */
  dtype: Dtype;
  /** Dimensions, outermost first. */
  shape: readonly number[];
  /**
   * The elements, row-major. Any typed array; its bytes are written as they
   * are, so a `Float32Array` fits `F32`, a `Uint8Array` any dtype.
   */
  data: ArrayBufferView;
}

/** Options of {@linkcode writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** Written as `"__metadata__"` (first in the header) when given. */
  metadata?: Record<string, string>;
}

function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function checkSpecs(specs: readonly TensorSpec[], path: string): number[] {
  const seen = new Set<string>();
  return specs.map((s) => {
    const bad = (what: string) =>
      new SafetensorsError(
        "invalid-argument",
        path,
        `tensor "${s.name}": ${what}`,
      );
    if (
      typeof s.name !== "string" || s.name === "" || s.name === "__metadata__"
    ) {
      throw bad("name must be a non-empty string other than __metadata__");
    }
    if (seen.has(s.name)) throw bad("name given twice");
    seen.add(s.name);
    if (!isDtype(s.dtype)) {
      throw bad(`unknown dtype ${JSON.stringify(s.dtype)}`);
    }
    if (!Array.isArray(s.shape) || !s.shape.every(isNonNegativeInt)) {
      throw bad(
        `shape ${
          JSON.stringify(s.shape)
        } is not an array of non-negative integers`,
      );
    }
    try {
      return shapeSize(s.shape) * DTYPE_SIZES[s.dtype];
    } catch {
      throw bad(`shape [${s.shape.join(", ")}] is too large`);
    }
  });
}

/**
 * The header bytes (length prefix + JSON + space padding) for tensors stored
 * back to back in the given order. Padding makes `8 + N` a multiple of 8 like
 * the reference writer, so the data section is 8-byte aligned.
 */
function encodeHeader(
  specs: readonly TensorSpec[],
  byteLengths: readonly number[],
  metadata: Record<string, string> | undefined,
  path: string,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new SafetensorsError(
          "invalid-argument",
          path,
          `metadata value for "${k}" is not a string`,
        );
      }
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  specs.forEach((s, i) => {
    header[s.name] = {
      dtype: s.dtype,
      shape: [...s.shape],
      data_offsets: [offset, offset + byteLengths[i]],
    };
    offset += byteLengths[i];
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // Already gone or never created: nothing to clean up.
  }
  untrackTemp(path);
}

/**
 * Writes tensors to a safetensors file atomically: the data goes to a
 * temporary file in the same directory which is renamed over `path` only when
 * complete, so readers never see a partial file (on failure the temporary
 * file is deleted). Tensors are stored in insertion order of `tensors`.
 * The file is not fsynced.
 *
 * @example
 * ```ts ignore
 * import { writeSafetensors } from "./safetensors.ts";
 * await writeSafetensors("weights.safetensors", {
 *   wte: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
 * }, { metadata: { step: "0" } });
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorData>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const specs = Object.entries(tensors).map(([name, t]) => ({
    name,
    dtype: t.dtype,
    shape: t.shape,
  }));
  const lengths = checkSpecs(specs, path);
  const datas = Object.values(tensors).map((t, i) => {
    const bytes = ArrayBuffer.isView(t.data) ? asBytes(t.data) : null;
    if (bytes === null || bytes.length !== lengths[i]) {
      throw new SafetensorsError(
        "invalid-argument",
        path,
        `tensor "${specs[i].name}": ${specs[i].dtype} [${
          specs[i].shape.join(", ")
        }] needs ${lengths[i]} bytes but data has ${
          bytes?.length ?? "no"
        } bytes`,
      );
    }
    return bytes;
  });
  const header = encodeHeader(specs, lengths, options.metadata, path);
  const tmp = tempPathFor(path);
  trackTemp(tmp);
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      await writeAll(file, header);
      for (const d of datas) await writeAll(file, d);
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
    untrackTemp(tmp);
  } catch (e) {
    await removeQuietly(tmp);
    throw new SafetensorsError("io", path, `cannot write (${ioReason(e)})`);
  }
}

/** Options of {@linkcode createSafetensorsStreamWriter}. */
export interface StreamWriterOptions {
  /** The tensors, in the order their data will be appended. */
  tensors: readonly TensorSpec[];
  /** Written as `"__metadata__"` when given. */
  metadata?: Record<string, string>;
  /**
   * Write to this stable path instead of a process-private temporary file,
   * so an interrupted write can be resumed: with `resumeDataBytes`, the
   * existing partial file (same header) is cut to that many data bytes and
   * appending continues from there.
   */
  partial?: { path: string; resumeDataBytes?: number };
}

/** A safetensors file being written piece by piece. */
export interface SafetensorsStreamWriter {
  /** The final path (the data goes to a temporary file until close). */
  readonly path: string;
  /**
   * Appends the next bytes of tensor `name`. Tensors must be filled in the
   * declared order; a tensor may take any number of appends, and a piece may
   * not run past the tensor's declared size (checked at call time). Calls
   * keep their order even when not awaited, but `bytes` must not change until
   * the returned promise settles.
   */
  append(name: string, bytes: ArrayBufferView): Promise<void>;
  /** Checks every tensor is complete, then renames into place. */
  close(): Promise<void>;
  /** Abandons the write and deletes the temporary file. */
  abort(): Promise<void>;
  /**
   * Writes everything appended so far to the file; resolves to the number of
   * data bytes (after the header) it now holds.
   */
  sync(): Promise<number>;
}

/**
 * Starts writing a safetensors file whose tensor shapes are known up front,
 * so the header can be written first and the data streamed after it: for
 * histories too large to hold in memory. Completed with `close()` (atomic
 * rename), or abandoned with `abort()`.
 *
 * @example Streaming a history of embedding snapshots
 * ```ts ignore
 * import { createSafetensorsStreamWriter } from "./safetensors.ts";
 * const w = await createSafetensorsStreamWriter("history.safetensors", {
 *   tensors: [{ name: "wte", dtype: "BF16", shape: [3, 4, 2] }],
 * });
 * try {
 *   for (let step = 0; step < 3; step++) {
 *     await w.append("wte", new Uint8Array(16)); // one [4, 2] bf16 snapshot
 *   }
 *   await w.close();
 * } catch (e) {
 *   await w.abort();
 *   throw e;
 * }
 * ```
 */
export async function createSafetensorsStreamWriter(
  path: string,
  options: StreamWriterOptions,
): Promise<SafetensorsStreamWriter> {
  const specs = options.tensors;
  const lengths = checkSpecs(specs, path);
  const header = encodeHeader(specs, lengths, options.metadata, path);
  const partial = options.partial;
  const tmp = partial?.path ?? tempPathFor(path);
  if (!partial) trackTemp(tmp);
  const resumeAt = partial?.resumeDataBytes;
  const totalData = lengths.reduce((a, b) => a + b, 0);
  if (
    resumeAt !== undefined &&
    (!Number.isSafeInteger(resumeAt) || resumeAt < 0 || resumeAt > totalData)
  ) {
    throw new SafetensorsError(
      "invalid-argument",
      path,
      `cannot resume at ${resumeAt} data bytes (the file holds ${totalData})`,
    );
  }
  let file: Deno.FsFile;
  try {
    if (resumeAt === undefined) {
      file = await Deno.open(tmp, {
        write: true,
        create: true,
        truncate: true,
        createNew: !partial,
      });
      await writeAll(file, header);
    } else {
      const existing = await Deno.open(tmp, { read: true });
      const head = new Uint8Array(header.length);
      let got = 0;
      try {
        while (got < head.length) {
          const n = await existing.read(head.subarray(got));
          if (n === null) break;
          got += n;
        }
      } finally {
        existing.close();
      }
      if (got !== head.length || head.some((b, i) => b !== header[i])) {
        throw new Error("the partial file has another header");
      }
      if ((await Deno.stat(tmp)).size < header.length + resumeAt) {
        throw new Error("the partial file is shorter than the resume point");
      }
      file = await Deno.open(tmp, { write: true });
      await file.truncate(header.length + resumeAt);
      await file.seek(0, Deno.SeekMode.End);
    }
  } catch (e) {
    if (resumeAt === undefined) await removeQuietly(tmp);
    throw new SafetensorsError("io", path, `cannot write (${ioReason(e)})`);
  }

  // Small appends (one snapshot at a time) are coalesced into large writes.
  const staging = new Uint8Array(4 * 1024 * 1024);
  let staged = 0;
  let index = 0; // tensor being filled (checked at call time, in call order)
  let filled = 0; // bytes of it so far
  let state: "open" | "failed" | "closed" | "aborted" = "open";
  // File writes run one after another in call order, even if not awaited.
  let chain: Promise<void> = Promise.resolve();

  const enqueue = (work: () => Promise<void>): Promise<void> => {
    const run = chain.then(async () => {
      if (state === "failed") {
        throw stateError("an earlier write failed");
      }
      try {
        await work();
      } catch (e) {
        state = "failed";
        throw new SafetensorsError("io", path, `write failed (${ioReason(e)})`);
      }
    });
    chain = run.catch(() => {});
    return run;
  };
  const flush = async () => {
    if (staged > 0) {
      await writeAll(file, staging.subarray(0, staged));
      staged = 0;
    }
  };
  const stateError = (what: string) =>
    new SafetensorsError("writer-state", path, what);
  const skipComplete = () => {
    while (index < specs.length && filled === lengths[index]) {
      index++;
      filled = 0;
    }
  };
  let appended = 0; // data bytes accepted so far
  if (resumeAt !== undefined) {
    // Already on disk: fill the declared tensors up to the resume point.
    let left = resumeAt;
    while (index < specs.length && left >= lengths[index] - filled) {
      left -= lengths[index] - filled;
      index++;
      filled = 0;
    }
    filled += left;
    appended = resumeAt;
  }
  skipComplete(); // zero-size tensors need no append

  const abort = async (): Promise<void> => {
    if (state === "closed" || state === "aborted") return;
    state = "aborted";
    await chain;
    try {
      file.close();
    } finally {
      await removeQuietly(tmp);
    }
  };

  const append = (name: string, view: ArrayBufferView): Promise<void> => {
    if (state !== "open") {
      return Promise.reject(
        stateError(`append after the writer was ${state}`),
      );
    }
    if (!ArrayBuffer.isView(view)) {
      return Promise.reject(
        new SafetensorsError(
          "invalid-argument",
          path,
          "append: bytes must be a typed array",
        ),
      );
    }
    if (index >= specs.length) {
      return Promise.reject(
        stateError(
          `append("${name}"): all declared tensors are already complete`,
        ),
      );
    }
    const spec = specs[index];
    if (name !== spec.name) {
      return Promise.reject(
        stateError(
          `append("${name}"): expected data for tensor "${spec.name}" (${filled} of ${
            lengths[index]
          } bytes written); tensors must be appended in declared order`,
        ),
      );
    }
    const bytes = asBytes(view);
    if (filled + bytes.length > lengths[index]) {
      return Promise.reject(
        stateError(
          `append("${name}"): ${bytes.length} bytes would exceed the tensor's ${
            lengths[index]
          } bytes (${filled} already written)`,
        ),
      );
    }
    filled += bytes.length;
    appended += bytes.length;
    skipComplete();
    return enqueue(async () => {
      if (bytes.length > staging.length - staged) await flush();
      if (bytes.length >= staging.length) {
        await writeAll(file, bytes);
      } else {
        staging.set(bytes, staged);
        staged += bytes.length;
      }
    });
  };

  const close = async (): Promise<void> => {
    if (state === "closed" || state === "aborted") {
      throw stateError(`close after the writer was ${state}`);
    }
    await chain;
    if (state === "failed") {
      await abort();
      throw stateError("close after a failed write; the file was not written");
    }
    if (index < specs.length) {
      const missing = `tensor "${specs[index].name}" has ${filled} of ${
        lengths[index]
      } bytes`;
      await abort();
      throw stateError(`close: ${missing}; the file was not written`);
    }
    state = "closed";
    try {
      try {
        await flush();
      } finally {
        file.close();
      }
      await Deno.rename(tmp, path);
      untrackTemp(tmp);
    } catch (e) {
      await removeQuietly(tmp);
      throw new SafetensorsError("io", path, `cannot write (${ioReason(e)})`);
    }
  };

  const sync = (): Promise<number> => {
    const at = appended;
    return enqueue(flush).then(() => at);
  };

  return { path, append, close, abort, sync };
}

/**
 * Encodes float32 values as little-endian bfloat16 bytes. Values that are
 * already bf16-representable (low 16 bits zero) are exact; others are rounded
 * to nearest, ties to even, like `torch.Tensor.to(torch.bfloat16)` (so a large
 * finite value may round to infinity). NaN stays NaN (made quiet, sign kept).
 *
 * @example
 * ```ts
 * import { float32ToBf16Bytes } from "./safetensors.ts";
 * float32ToBf16Bytes(new Float32Array([1, -2])); // Uint8Array [0x80, 0x3f, 0x00, 0xc0]
 * ```
 */
export function float32ToBf16Bytes(f32: Float32Array): Uint8Array {
  const bits = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  const out = new Uint8Array(f32.length * 2);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    let h: number;
    if ((b & 0x7fffffff) > 0x7f800000) {
      h = (b >>> 16) | 0x0040;
    } else {
      // Max non-NaN input is 0xff800000, so the sum stays below 2^32.
      h = Math.floor((b + 0x7fff + ((b >>> 16) & 1)) / 65536);
    }
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/**
 * Decodes little-endian bfloat16 bytes to float32 (exact).
 *
 * @example
 * ```ts
 * import { bf16BytesToFloat32 } from "./safetensors.ts";
 * bf16BytesToFloat32(new Uint8Array([0x80, 0x3f])); // Float32Array [1]
 * ```
 */
export function bf16BytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.length % 2 !== 0) {
    throw new RangeError(`bf16 data has an odd byte length (${bytes.length})`);
  }
  const out = new Float32Array(bytes.length / 2);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < out.length; i++) {
    bits[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
  }
  return out;
}

/**
 * Decodes little-endian IEEE half-precision bytes to float32 (exact).
 *
 * @example
 * ```ts
 * import { f16BytesToFloat32 } from "./safetensors.ts";
 * f16BytesToFloat32(new Uint8Array([0x00, 0x3c])); // Float32Array [1]
 * ```
 */
export function f16BytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.length % 2 !== 0) {
    throw new RangeError(`f16 data has an odd byte length (${bytes.length})`);
  }
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) {
    const h = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac === 0 ? sign * Infinity : NaN;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}
