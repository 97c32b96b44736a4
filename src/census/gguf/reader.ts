/**
 * Reading a GGUF file from disk for the census: the header is read (in
 * growing chunks, as far as it goes), then rows of a tensor are served with
 * positioned reads of just their bytes, in the shape the census reads
 * safetensors rows (`readRows`, `readRowsSync`, `rowBlocks`).
 *
 * A row is stored as whole blocks of the tensor's ggml type, so a row's
 * bytes are its blocks' bytes: the census compares quantized rows in their
 * stored form without dequantizing.
 *
 * @module
 */

import { closeSync, fstatSync, openSync } from "node:fs";
import { readAt, readAtSync } from "../../io/read_at.ts";
import type { TokenTable } from "../tokenizer.ts";
import { TokenizerError } from "../tokenizer.ts";
import { GgufError } from "./error.ts";
import {
  type GgufHeader,
  type GgufTensorInfo,
  NeedMoreBytes,
  parseGgufHeader,
} from "./header.ts";
import { type GgufStorage, storageOf } from "./types.ts";

/** First read of a header; doubled until the header fits. */
const FIRST_READ_BYTES = 1 << 20;

/** The census's view of one GGUF tensor. */
interface GgufTensorView {
  /** ggml type name (`F16`, `Q4_K`, ...). */
  readonly dtype: string;
  /** Row-major shape, `[rows, cols]` for a matrix. */
  readonly shape: readonly number[];
  /** Bytes per row along the first dimension of `shape`. */
  readonly rowBytes: number;
  /** Block layout of the rows. */
  readonly storage: GgufStorage;
}

/** An open GGUF file. */
export interface GgufFile {
  /** The file. */
  readonly path: string;
  /** The parsed header. */
  readonly header: GgufHeader;
  /** Tensor names, in file order. */
  names(): string[];
  /** The tensor `name`; throws when there is none. */
  tensor(name: string): GgufTensorView;
  /** Rows `[start, start + count)` of `name`, into `options.into` when given. */
  readRows(
    name: string,
    start: number,
    count: number,
    options?: { into?: Uint8Array },
  ): Promise<Uint8Array>;
  /** {@linkcode GgufFile.readRows}, blocking. */
  readRowsSync(
    name: string,
    start: number,
    count: number,
    options?: { into?: Uint8Array },
  ): Uint8Array;
  /** The tensor in blocks of whole rows (about `blockBytes` each, default 16 MiB). */
  rowBlocks(
    name: string,
    options?: { blockBytes?: number },
  ): AsyncGenerator<{ startRow: number; rowCount: number; bytes: Uint8Array }>;
  /**
   * Token strings from `tokenizer.ggml.tokens`, `null` when the file has
   * none; throws {@linkcode TokenizerError} when that key is not an array
   * of strings.
   */
  tokens(): TokenTable | null;
  /** Closes the file; further reads throw. */
  close(): void;
}

function ioError(path: string, e: unknown, doing: string): GgufError {
  return new GgufError(
    "io",
    path,
    `cannot ${doing} (${(e as Error)?.message ?? String(e)})`,
  );
}

function readHeader(fd: number, path: string, fileSize: number): GgufHeader {
  let size = Math.min(fileSize, FIRST_READ_BYTES);
  while (true) {
    const bytes = new Uint8Array(size);
    const got = readAtSync(fd, 0, bytes);
    try {
      return parseGgufHeader(bytes.subarray(0, got), {
        path,
        fileSize: got < size ? got : fileSize,
      });
    } catch (e) {
      if (!(e instanceof NeedMoreBytes) || size >= fileSize) throw e;
      size = Math.min(fileSize, size * 2);
    }
  }
}

function tokenTable(header: GgufHeader): TokenTable | null {
  const key = "tokenizer.ggml.tokens";
  const tokens = header.metadata.get(key);
  if (tokens === undefined) return null;
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== "string")) {
    throw new TokenizerError(
      header.path,
      `metadata ${key} is not an array of strings`,
    );
  }
  const strings = tokens as string[];
  return {
    path: header.path,
    size: strings.length,
    label: (id) => strings[id] ?? null,
  };
}

/** The tensor `name` of the file, or a named error. */
function tensorInfo(
  header: GgufHeader,
  path: string,
  name: string,
): GgufTensorInfo {
  const t = header.tensors.get(name);
  if (t === undefined) {
    throw new GgufError("bad-tensor", path, `no tensor named "${name}"`);
  }
  return t;
}

/** Which rows to read, and into what. */
interface RowRequest {
  readonly path: string;
  readonly name: string;
  readonly start: number;
  readonly count: number;
  /** A caller's buffer to fill (at least the rows' bytes long). */
  readonly into?: Uint8Array;
}

/**
 * Where rows `start..start+count` of `t` lie in the file and the buffer they
 * are read into; rows outside the tensor, or a short buffer, are named
 * errors before anything is read.
 */
function rowRead(
  t: GgufTensorInfo,
  r: RowRequest,
): { offset: number; buffer: Uint8Array } {
  const { path, name, start, count, into } = r;
  const rows = t.shape[0] ?? 1;
  const stride = t.byteLength / Math.max(1, rows);
  if (
    !Number.isSafeInteger(start) || !Number.isSafeInteger(count) ||
    start < 0 || count < 0 || start + count > rows
  ) {
    throw new GgufError(
      "bad-tensor",
      path,
      `rows ${start}..${start + count} are outside "${name}" (${rows} rows)`,
    );
  }
  const length = count * stride;
  const buffer = into === undefined
    ? new Uint8Array(length)
    : into.subarray(0, length);
  if (buffer.length < length) {
    throw new GgufError("bad-tensor", path, "read buffer too small");
  }
  return { offset: t.byteOffset + start * stride, buffer };
}

/** A read that came back short means the file shrank while open. */
function checkFullRead(
  path: string,
  got: number,
  offset: number,
  want: number,
): void {
  if (got < want) {
    throw new GgufError(
      "truncated",
      path,
      `truncated: unexpected end of file at byte ${
        offset + got
      } (file changed while open?)`,
    );
  }
}

/**
 * Opens a GGUF file and validates its header; tensor data is read only on
 * request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openGguf } from "./reader.ts";
 * import { toF16Bytes, writeGguf } from "./write_gguf.ts";
 * const path = await Deno.makeTempFile({ suffix: ".gguf" });
 * try {
 *   await writeGguf(path, {
 *     metadata: { "tokenizer.ggml.tokens": ["a", "b"] },
 *     tensors: [{
 *       name: "token_embd.weight", type: "F16", shape: [2, 2],
 *       data: toF16Bytes([1, 2, 3, 4]),
 *     }],
 *   });
 *   const f = openGguf(path);
 *   try {
 *     assert.deepEqual(f.tensor("token_embd.weight").shape, [2, 2]);
 *     assert.deepEqual([...f.readRowsSync("token_embd.weight", 1, 1)], [
 *       ...toF16Bytes([3, 4]),
 *     ]);
 *     assert.equal(f.tokens()?.label(1), "b");
 *   } finally {
 *     f.close();
 *   }
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export function openGguf(path: string): GgufFile {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw ioError(path, e, "open");
  }
  let closed = false;
  try {
    const fileSize = fstatSync(fd).size;
    const header = readHeader(fd, path, fileSize);
    const info = (name: string) => tensorInfo(header, path, name);
    const plan = (
      name: string,
      start: number,
      count: number,
      into?: Uint8Array,
    ) => {
      if (closed) throw new GgufError("io", path, "file is closed");
      return rowRead(info(name), { path, name, start, count, into });
    };
    const checkGot = (got: number, offset: number, want: number) =>
      checkFullRead(path, got, offset, want);
    const readRows: GgufFile["readRows"] = async (name, start, count, o) => {
      const { offset, buffer } = plan(name, start, count, o?.into);
      let got: number;
      try {
        got = await readAt(fd, offset, buffer);
      } catch (e) {
        throw ioError(path, e, "read");
      }
      checkGot(got, offset, buffer.length);
      return buffer;
    };
    return {
      path,
      header,
      names: () => [...header.tensors.keys()],
      tensor(name) {
        const t = info(name);
        return {
          dtype: t.type.name,
          shape: t.shape,
          rowBytes: t.rowBytes,
          storage: storageOf(t.type, t.dims[0] ?? 1),
        };
      },
      readRows,
      readRowsSync(name, start, count, o) {
        const { offset, buffer } = plan(name, start, count, o?.into);
        let got: number;
        try {
          got = readAtSync(fd, offset, buffer);
        } catch (e) {
          throw ioError(path, e, "read");
        }
        checkGot(got, offset, buffer.length);
        return buffer;
      },
      async *rowBlocks(name, options = {}) {
        const t = info(name);
        const rows = t.shape[0] ?? 1;
        const per = Math.max(
          1,
          Math.floor(
            (options.blockBytes ?? 16 << 20) / Math.max(1, t.rowBytes),
          ),
        );
        for (let r = 0; r < rows; r += per) {
          const n = Math.min(per, rows - r);
          yield { startRow: r, rowCount: n, bytes: await readRows(name, r, n) };
        }
      },
      tokens: () => tokenTable(header),
      close() {
        if (closed) return;
        closed = true;
        closeSync(fd);
      },
    };
  } catch (e) {
    closed = true;
    closeSync(fd);
    if (e instanceof GgufError) throw e;
    throw ioError(path, e, "read");
  }
}
