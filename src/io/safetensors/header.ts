/**
 * The safetensors header: the 8-byte little-endian length `N`, then `N`
 * bytes of UTF-8 JSON mapping each tensor name to `{dtype, shape,
 * data_offsets: [begin, end]}` (offsets relative to the data section) plus
 * an optional `"__metadata__"` map of strings.
 *
 * Every offset is checked before it is used, so a damaged or hostile file
 * gives a {@linkcode SafetensorsError} instead of an out-of-bounds read; the
 * reader and the buffer parser both go through {@linkcode parseHeader}.
 *
 * @module
 */

import {
  type Dtype,
  DTYPE_SIZES,
  isDtype,
  isNonNegativeInt,
  shapeSize,
} from "./dtype.ts";
import { SafetensorsError, type SafetensorsErrorCode } from "./error.ts";

/** Largest header this reader accepts: 100 MiB. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates the JSON header of a file or buffer of `totalBytes` bytes whose
 * data section starts at `dataStart`. Follows the reference implementation:
 * ranges must tile the data section exactly (no overlap, no hole, no
 * trailing bytes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHeader } from "./header.ts";
 * const json = new TextEncoder().encode('{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}');
 * const header = parseHeader(json, 8 + json.length, 8 + json.length + 2, "<buffer>");
 * assert.equal(header.tensors.get("x")?.byteOffset, 8 + json.length);
 * assert.throws(() => parseHeader(json, 8 + json.length, 8 + json.length + 3, "<buffer>"), /1 trailing bytes/);
 * ```
 */
export function parseHeader(
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

  const twice = repeatedKey(text);
  if (twice !== undefined) {
    throw new SafetensorsError(
      "invalid-header",
      path,
      `tensor name ${
        JSON.stringify(twice)
      } appears more than once in the header`,
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

/**
 * The first key of the top-level object of `json` (valid JSON) that occurs
 * twice, if any. JSON.parse keeps only the last of duplicate keys, so a
 * repeated tensor name would otherwise surface as "a hole in the data
 * section" where the lost entry's bytes are.
 */
function repeatedKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
    else if (ch === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
      if (depth === 1 && /^\s*:/.test(json.slice(j + 1, j + 40))) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
      }
      i = j;
    }
  }
  return undefined;
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
  if (
    Array.isArray(shape) &&
    shape.every((n) => Number.isInteger(n) && n >= 0) &&
    !shape.every(isNonNegativeInt)
  ) {
    throw bad(
      "invalid-tensor",
      `shape ${
        JSON.stringify(shape)
      } is too large: a dimension exceeds 2^53 - 1 elements`,
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

/**
 * The header length `N` from the 8-byte prefix, checked against the size of
 * the file (`totalBytes`) and {@linkcode MAX_HEADER_BYTES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headerLengthFrom } from "./header.ts";
 * const prefix = new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0]);
 * assert.equal(headerLengthFrom(prefix, 100, "f"), 16);
 * assert.throws(() => headerLengthFrom(prefix, 20, "f"), /exceeds the 12 bytes/);
 * ```
 */
export function headerLengthFrom(
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

/** The entry of tensor `name`; an `unknown-tensor` error lists the names there are. */
export function lookup(header: SafetensorsHeader, name: string): TensorInfo {
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

/**
 * Byte range of rows `[startRow, startRow + rowCount)` of a tensor (along
 * its first dimension); an `out-of-range` error for rows outside it.
 */
export function rowRange(
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
