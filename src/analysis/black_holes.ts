/**
 * Counting "black holes": groups of embedding rows that are bit-identical.
 *
 * This is the one implementation of the C/P statistics, used by the training
 * experiments (small float32 or bf16 matrices in memory) and by the census of
 * real checkpoints (hundreds of MB, streamed from disk in row blocks).
 *
 * Rows are compared in their stored encoding, byte for byte, never decoded to
 * numbers: every row is hashed, rows with equal hashes are candidates, and
 * candidates are confirmed by comparing their bytes, so a hash collision can
 * cost time but never change a count.
 *
 * Definitions (as in the seed notebooks): `C` is the number of distinct row
 * vectors held by at least two rows; `P` is the number of rows in those
 * clusters.
 *
 * Non-finite rows: when the element format is known (`dtype`; always for
 * {@linkcode findBlackHolesFloat32} and the census), a row holding any NaN or
 * ±Inf is left out of the clustering (a diverged model's rows of one NaN
 * pattern are not a black hole) and listed in the report's `nonFinite`. The
 * check reads the exponent bits of every element during hashing (in the SIMD
 * kernel, two vector operations per 16 bytes): no extra pass over the data,
 * ~6% more time for a census of a 622 MB matrix from the page cache.
 *
 * Speed: rows whose length is a multiple of 64 bytes (every real embedding)
 * are hashed by a small WebAssembly SIMD kernel built below (~25 GB/s on one
 * core for data in cache, several times the scalar JavaScript fallback); both
 * compute the same function ({@linkcode hashRowBytes}), which the tests
 * check.
 *
 * @module
 */

/** One black hole: a row vector shared by several token rows. */
export interface BlackHoleCluster {
  /** Number of rows holding this vector (at least 2). */
  population: number;
  /** The rows (token ids), ascending. */
  tokens: number[];
}

/** C, P and the clusters of one matrix. */
export interface BlackHoleReport {
  /** Number of rows examined. */
  rows: number;
  /**
   * Number of distinct row vectors (clusters and singletons) among the
   * finite rows: `rows - nonFinite.length - P + C`.
   */
  distinct: number;
  /** Number of clusters: distinct vectors shared by at least 2 rows. */
  C: number;
  /** Number of rows in clusters. */
  P: number;
  /**
   * The clusters, by population descending, then by smallest token id
   * ascending.
   */
  clusters: BlackHoleCluster[];
  /**
   * Rows (token ids), ascending, holding at least one NaN or ±Inf. They are
   * in no cluster and count towards neither `C`, `P` nor `distinct`. Always
   * empty when no `dtype` was given (rows are then opaque bytes).
   */
  nonFinite: number[];
}

/** A row-major matrix given as its stored bytes. */
export interface RowMatrix {
  /** `rows * rowBytes` bytes. */
  bytes: Uint8Array;
  /** Number of rows. */
  rows: number;
  /** Bytes per row (columns times element size). */
  rowBytes: number;
}

/**
 * A row hash: maps the `length` bytes at `offset` of `view` to a key that is a
 * non-negative safe integer. Equal bytes must give equal keys; unequal bytes
 * may collide (collisions are resolved by byte comparison).
 */
export type RowHash = (
  view: DataView,
  offset: number,
  length: number,
) => number;

/** Which implementation hashes rows (the keys are the same). */
export type HashEngine = "auto" | "js" | "wasm";

/**
 * Floating-point element formats (little-endian, as stored in safetensors
 * files and in memory) whose NaN and ±Inf values can be recognised.
 */
export type FloatDtype = "BF16" | "F16" | "F32" | "F64";

/** Options shared by the black-hole finders. */
export interface BlackHoleOptions {
  /**
   * Custom row hash, e.g. a deliberately weak one in tests. Default:
   * {@linkcode hashRowBytes}.
   */
  hash?: RowHash;
  /**
   * `"auto"` (default): the WebAssembly kernel when rows are a multiple of
   * 64 bytes, no custom `hash` is given and the matrix has at least 1 MiB,
   * else JavaScript. `"wasm"` throws where the kernel cannot be used.
   */
  engine?: HashEngine;
  /**
   * The element format of the rows. When given, rows holding any NaN or
   * ±Inf are excluded from the clusters and listed in
   * {@linkcode BlackHoleReport.nonFinite}; rows must hold whole elements.
   * Without it rows are compared as opaque bytes and nothing is excluded.
   */
  dtype?: FloatDtype;
}

/**
 * How to spot a non-finite element of a format: an element is NaN or ±Inf
 * exactly when its exponent bits are all ones, i.e. when its top 16 bits
 * (the last two bytes, little-endian) with the sign cleared are at least
 * `threshold`.
 */
interface NonFiniteSpec {
  /** Bytes per element. */
  size: number;
  /** Top 16 bits, sign cleared, of the smallest non-finite value (+Inf). */
  threshold: number;
}

const NON_FINITE: Record<FloatDtype, NonFiniteSpec> = {
  BF16: { size: 2, threshold: 0x7f80 }, // 8 exponent bits below the sign
  F16: { size: 2, threshold: 0x7c00 }, // 5 exponent bits
  F32: { size: 4, threshold: 0x7f80 }, // top half of an F32 is a BF16
  F64: { size: 8, threshold: 0x7ff0 }, // 11 exponent bits
};

/** The spec of `dtype`, or null without one; checks that rows fit it. */
function nonFiniteSpec(
  dtype: FloatDtype | undefined,
  rowBytes: number,
): NonFiniteSpec | null {
  if (dtype === undefined) return null;
  if (!Object.hasOwn(NON_FINITE, dtype)) {
    throw new BlackHoleError(
      `unknown dtype ${JSON.stringify(dtype)} (expected one of ${
        Object.keys(NON_FINITE).join(", ")
      })`,
    );
  }
  const spec = NON_FINITE[dtype];
  if (rowBytes % spec.size !== 0) {
    throw new BlackHoleError(
      `${rowBytes}-byte rows do not hold whole ${dtype} elements (${spec.size} bytes each)`,
    );
  }
  return spec;
}

/** Whether the row at `offset` holds a NaN or ±Inf (scalar check). */
function rowNonFinite(
  view: DataView,
  offset: number,
  rowBytes: number,
  spec: NonFiniteSpec,
): boolean {
  const { size, threshold } = spec;
  const end = offset + rowBytes;
  for (let at = offset + size - 2; at < end; at += size) {
    if ((view.getUint16(at, true) & 0x7fff) >= threshold) return true;
  }
  return false;
}

/** Matrices smaller than this are hashed in JavaScript under `"auto"`. */
const WASM_MIN_BYTES = 1 << 20;

/** Error for arguments that do not describe a matrix. */
export class BlackHoleError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "BlackHoleError";
  }
}

// ---------------------------------------------------------------------------
// The row hash. Sixteen independent 32-bit lanes: lane j takes words j,
// j + 16, j + 32, ... of the row (little-endian; a partial last word is
// zero-padded) through
//     x = imul(lane ^ word, MULTS[j]);  lane = x ^ (x >>> 15)
// Every step is a bijection of the lane (odd multiplier, invertible
// xorshift), so rows differing in a single word always differ in that lane;
// the xorshift feeds high bits back down, so differences in high bits (signs)
// do not simply cancel. Lanes are folded to four,
//     c_i = l_i ^ rotl(l_{4+i}, 8) ^ rotl(l_{8+i}, 16) ^ rotl(l_{12+i}, 24),
// again a bijection of each lane, and then to a 53-bit key whose high 32 bits
// are a bijection of each c_i. Independent lanes let the CPU run the
// multiplies in parallel; the SIMD kernel holds them as four i32x4 vectors.
// ---------------------------------------------------------------------------

/** Odd multipliers (so each step is invertible), lane j = MULTS[j]. */
const MULTS = [
  0x9e3779b1,
  0x85ebca77,
  0xc2b2ae3d,
  0x27d4eb2f,
  0x165667b1,
  0xd3a2646d,
  0xfd7046c5,
  0xb55a4f09,
  0x2c1b3c6d,
  0x297a2d39,
  0x68e31da5,
  0x1b873593,
  0xcc9e2d51,
  0xe6546b65,
  0x7feb352d,
  0x846ca68b,
];

/** Initial lane values. */
const SEEDS = MULTS.map((_, j) => Math.imul(0x9e3779b9, j + 1) >>> 0);

/** fmix32 of MurmurHash3: makes every input bit affect every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** One lane step. */
function mix(lane: number, word: number, mult: number): number {
  const x = Math.imul(lane ^ word, mult);
  return x ^ (x >>> 15);
}

/** High 32 bits of the key: a bijection of each folded lane. */
function keyHigh(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  length: number,
): number {
  return fmix32((c0 ^ rotl(c1, 8) ^ rotl(c2, 16) ^ rotl(c3, 24)) + length);
}

/** Source of the low 21 bits of the key. */
function keyLow(c0: number, c1: number, c2: number, c3: number): number {
  return fmix32(
    (Math.imul(c0, 0x2c1b3c6d) + c1) ^ (Math.imul(c2, 0x297a2d39) + c3),
  );
}

/** The 53-bit key from the four folded lanes and the row length. */
function finalKey(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  length: number,
): number {
  return keyHigh(c0, c1, c2, c3, length) * 2097152 +
    (keyLow(c0, c1, c2, c3) >>> 11);
}

/** Reused by {@linkcode hashRowBytes}: no allocation per row. */
const scratchLanes = new Int32Array(16);

/**
 * The default row hash (defined in the comment above `MULTS` in the source):
 * a 53-bit key over the row's bytes, equal for equal bytes wherever they sit,
 * and always different for rows that differ in a single 32-bit word. Not
 * cryptographic; it only has to make false candidates rare.
 *
 * @example
 * ```ts
 * import { hashRowBytes } from "./black_holes.ts";
 * const a = new Uint8Array([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
 * const v = new DataView(a.buffer);
 * hashRowBytes(v, 0, 5) === hashRowBytes(v, 5, 5); // true: same bytes
 * ```
 */
export function hashRowBytes(
  view: DataView,
  offset: number,
  length: number,
): number {
  const l = scratchLanes;
  l.set(SEEDS);
  const end = offset + length;
  for (let i = offset, j = 0; i < end; i += 4, j = (j + 1) & 15) {
    let w = 0;
    if (i + 4 <= end) {
      w = view.getUint32(i, true);
    } else {
      for (let k = 0; i + k < end; k++) w |= view.getUint8(i + k) << (8 * k);
    }
    l[j] = mix(l[j], w, MULTS[j]);
  }
  return finalKey(
    l[0] ^ rotl(l[4], 8) ^ rotl(l[8], 16) ^ rotl(l[12], 24),
    l[1] ^ rotl(l[5], 8) ^ rotl(l[9], 16) ^ rotl(l[13], 24),
    l[2] ^ rotl(l[6], 8) ^ rotl(l[10], 16) ^ rotl(l[14], 24),
    l[3] ^ rotl(l[7], 8) ^ rotl(l[11], 16) ^ rotl(l[15], 24),
    length,
  );
}

// ---------------------------------------------------------------------------
// The SIMD kernel, assembled here from WebAssembly text-like source so that
// no binary blob is checked in. Exported function `hash(src, rowBytes, rows,
// out, flags, spec)`: for each of `rows` rows of `rowBytes` (a multiple of
// 64) bytes at `src`, runs the 16 lanes as four i32x4 vectors and stores the
// four folded lanes (16 bytes) at `out + 16 * row`. JavaScript then applies
// `finalKey`. `hashCheck` does the same and also stores at `flags + row` one
// byte, 1 when the row holds a NaN or ±Inf: read as eight u16 lanes, every
// 16 bytes are ANDed with the mask at `spec` (0x7fff on the lanes holding an
// element's top 16 bits, 0 elsewhere) and folded into a running unsigned
// maximum, which is compared at the row's end with the threshold at
// `spec + 16` (see `NonFiniteSpec`).
// ---------------------------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  while (true) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

type Immediate = "none" | "index" | "i32" | "memarg" | "v128";

/** The instructions the kernel uses: opcode bytes and immediate kind. */
const OPCODES: Record<string, [number[], Immediate]> = {
  "block": [[0x02, 0x40], "none"], // block type: empty
  "loop": [[0x03, 0x40], "none"],
  "br": [[0x0c], "index"],
  "br_if": [[0x0d], "index"],
  "end": [[0x0b], "none"],
  "local.get": [[0x20], "index"],
  "local.set": [[0x21], "index"],
  "local.tee": [[0x22], "index"],
  "i32.const": [[0x41], "i32"],
  "i32.ge_u": [[0x4f], "none"],
  "i32.add": [[0x6a], "none"],
  "i32.mul": [[0x6c], "none"],
  "i32.store8": [[0x3a], "memarg"],
  "v128.load": [[0xfd, 0x00], "memarg"],
  "v128.store": [[0xfd, 0x0b], "memarg"],
  "v128.const": [[0xfd, 0x0c], "v128"],
  "v128.and": [[0xfd, 0x4e], "none"],
  "v128.or": [[0xfd, 0x50], "none"],
  "v128.xor": [[0xfd, 0x51], "none"],
  "v128.any_true": [[0xfd, 0x53], "none"],
  "i16x8.ge_u": [[0xfd, 0x36], "none"],
  "i16x8.max_u": [[0xfd, 0x99, 0x01], "none"],
  "i32x4.shl": [[0xfd, 0xab, 0x01], "none"],
  "i32x4.shr_u": [[0xfd, 0xad, 0x01], "none"],
  "i32x4.mul": [[0xfd, 0xb5, 0x01], "none"],
};

/**
 * Encodes instructions written as in the WebAssembly text format, e.g.
 * `local.get 0 v128.load offset=16 i32x4.mul`; `v128.const` takes four i32.
 */
function assemble(source: string): number[] {
  const tokens = source.split(/\s+/).filter((t) => t !== "");
  const out: number[] = [];
  for (let i = 0; i < tokens.length;) {
    const op = OPCODES[tokens[i++]];
    if (op === undefined) {
      throw new Error(`kernel: unknown op ${tokens[i - 1]}`);
    }
    out.push(...op[0]);
    if (op[1] === "index") out.push(...uleb(Number(tokens[i++])));
    else if (op[1] === "i32") out.push(...sleb(Number(tokens[i++])));
    else if (op[1] === "memarg") {
      const m = /^offset=(\d+)$/.exec(tokens[i] ?? "");
      if (m !== null) i++;
      out.push(0, ...uleb(m === null ? 0 : Number(m[1]))); // align 1: any address
    } else if (op[1] === "v128") {
      for (let k = 0; k < 4; k++) {
        const x = Number(tokens[i++]) >>> 0;
        out.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24);
      }
    }
  }
  return out;
}

function buildHashModule(): Uint8Array<ArrayBuffer> {
  // Both functions take (src, rowBytes, rows, out, flags, spec); `hash`
  // ignores the last two. Locals, named below: the lane vectors, a scratch,
  // the multipliers (kept in locals: as constants inside the loop they cost
  // ~40% more time), and for `hashCheck` the mask and threshold read from
  // `spec`, the running maximum and the loaded vector.
  const [SRC, RB, ROWS, OUT, FLAGS, SPEC] = [0, 1, 2, 3, 4, 5];
  const [END, P, ROW_END] = [6, 7, 8]; // i32
  const LANE = 9, TMP = 13, MULT = 14, MASK = 18, THR = 19, ACC = 20, V = 21;
  const quad = (xs: number[], k: number) =>
    xs.slice(4 * k, 4 * k + 4).join(" ");
  const rotl = (r: number) =>
    `local.tee ${TMP} i32.const ${r} i32x4.shl local.get ${TMP} i32.const ${
      32 - r
    } i32x4.shr_u v128.or`;
  const k4 = [0, 1, 2, 3];
  const body = (check: boolean) => {
    // One 16-byte step of lane vector k; with `check`, also the running
    // maximum of the masked top 16 bits of each element.
    const step = (k: number) =>
      `local.get ${LANE + k} local.get ${P} v128.load offset=${16 * k}
       ${check ? `local.tee ${V}` : ""} v128.xor
       local.get ${MULT + k} i32x4.mul
       local.tee ${TMP} local.get ${TMP} i32.const 15 i32x4.shr_u v128.xor
       local.set ${LANE + k}
       ${
        check
          ? `local.get ${ACC} local.get ${V} local.get ${MASK} v128.and
             i16x8.max_u local.set ${ACC}`
          : ""
      }`;
    const source = `
      ${
      k4.map((k) => `v128.const ${quad(MULTS, k)} local.set ${MULT + k}`)
        .join(" ")
    }
      ${
      check
        ? `local.get ${SPEC} v128.load local.set ${MASK}
           local.get ${SPEC} v128.load offset=16 local.set ${THR}`
        : ""
    }
      local.get ${SRC} local.get ${RB} local.get ${ROWS} i32.mul i32.add
      local.set ${END}
      local.get ${SRC} local.set ${P}
      block loop
        local.get ${P} local.get ${END} i32.ge_u br_if 1
        local.get ${P} local.get ${RB} i32.add local.set ${ROW_END}
        ${
      k4.map((k) => `v128.const ${quad(SEEDS, k)} local.set ${LANE + k}`)
        .join(" ")
    }
        ${check ? `v128.const 0 0 0 0 local.set ${ACC}` : ""}
        block loop
          local.get ${P} local.get ${ROW_END} i32.ge_u br_if 1
          ${k4.map(step).join(" ")}
          local.get ${P} i32.const 64 i32.add local.set ${P}
          br 0
        end end
        local.get ${OUT}
        local.get ${LANE}
        local.get ${LANE + 1} ${rotl(8)} v128.xor
        local.get ${LANE + 2} ${rotl(16)} v128.xor
        local.get ${LANE + 3} ${rotl(24)} v128.xor
        v128.store
        local.get ${OUT} i32.const 16 i32.add local.set ${OUT}
        ${
      check
        ? `local.get ${FLAGS}
           local.get ${ACC} local.get ${THR} i16x8.ge_u v128.any_true
           i32.store8
           local.get ${FLAGS} i32.const 1 i32.add local.set ${FLAGS}`
        : ""
    }
        br 0
      end end
      end`;
    // Locals after the 6 parameters: 3 i32, then 13 v128.
    const code = [2, 3, 0x7f, 13, 0x7b, ...assemble(source)];
    return [...uleb(code.length), ...code];
  };
  const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  const section = (id: number, bytes: number[]) => [
    id,
    ...uleb(bytes.length),
    ...bytes,
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...section(1, [1, 0x60, 6, ...Array(6).fill(0x7f), 0]), // (i32 x6) -> ()
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 1]),
    ...section(3, [2, 0, 0]), // two functions of type 0
    ...section(7, [2, ...name("hash"), 0x00, 0, ...name("hashCheck"), 0x00, 1]),
    ...section(10, [2, ...body(false), ...body(true)]),
  ]);
}

let hashModule: WebAssembly.Module | null | undefined;

/** The compiled kernel, or null where WebAssembly SIMD is unavailable. */
function kernel(): WebAssembly.Module | null {
  if (hashModule === undefined) {
    try {
      hashModule = new WebAssembly.Module(buildHashModule());
    } catch {
      hashModule = null;
    }
  }
  return hashModule;
}

/**
 * Whether the WebAssembly SIMD row-hash kernel can run here.
 *
 * @example
 * ```ts
 * import { wasmHashAvailable } from "./black_holes.ts";
 * console.log(wasmHashAvailable()); // true in Deno
 * ```
 */
export function wasmHashAvailable(): boolean {
  return kernel() !== null;
}

/** Hashes blocks of rows into keys: the JS loop or the SIMD kernel. */
interface Hasher {
  /** Two buffers for streamed blocks; blocks read into them hash without a copy. */
  readonly buffers: [Uint8Array, Uint8Array];
  /**
   * Writes the keys of `block`'s rows to `keys` from index `firstRow`, and to
   * `tags` 32 well-mixed bits of each key (equal keys, equal tags) for the
   * key table; with a non-finite check, 1 to `flags` for each row holding a
   * NaN or ±Inf (0 for the others).
   */
  hash(
    block: Uint8Array,
    keys: Float64Array,
    tags: Int32Array,
    firstRow: number,
    flags: Uint8Array | null,
  ): void;
}

function jsHasher(
  rowBytes: number,
  blockRows: number,
  hash: RowHash,
  checked: boolean,
  spec: NonFiniteSpec | null,
): Hasher {
  return {
    buffers: [
      new Uint8Array(blockRows * rowBytes),
      new Uint8Array(blockRows * rowBytes),
    ],
    hash(block, keys, tags, firstRow, flags) {
      const view = new DataView(block.buffer, block.byteOffset, block.length);
      if (spec !== null && flags !== null) {
        for (let off = 0, row = firstRow; off < block.length; off += rowBytes) {
          flags[row++] = rowNonFinite(view, off, rowBytes, spec) ? 1 : 0;
        }
      }
      let row = firstRow;
      for (let off = 0; off < block.length; off += rowBytes) {
        const k = hash(view, off, rowBytes);
        if (checked && !(Number.isSafeInteger(k) && k >= 0)) {
          throw new BlackHoleError(
            `row hash returned ${k}, not a non-negative safe integer`,
          );
        }
        keys[row] = k;
        // Both halves mixed: custom hashes may vary only in their high bits.
        tags[row++] = fmix32((k >>> 0) ^ (k / 4294967296));
      }
    },
  };
}

function wasmHasher(
  module: WebAssembly.Module,
  rowBytes: number,
  blockRows: number,
  spec: NonFiniteSpec | null,
): Hasher {
  // Layout: folded lanes of one block (16 bytes per row), the non-finite
  // check's mask and threshold (64 bytes) and row flags (a byte per row), the
  // two buffers handed out for reading into, and a staging area for blocks
  // that arrive elsewhere (not one of the two: a read may be in flight into
  // those). Every area starts at a multiple of 64 bytes.
  const laneBytes = Math.ceil((blockRows * 16) / 64) * 64;
  const specAt = laneBytes;
  const flagsAt = specAt + 64;
  const flagBytes = Math.ceil(blockRows / 64) * 64;
  const bufAt = flagsAt + flagBytes;
  const bufBytes = blockRows * rowBytes;
  const total = bufAt + 3 * bufBytes;
  if (total > 2 ** 31) {
    throw new BlackHoleError(
      `block of ${blockRows} rows x ${rowBytes} bytes is too large`,
    );
  }
  const memory = new WebAssembly.Memory({
    initial: Math.max(1, Math.ceil(total / 65536)),
  });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fn = instance.exports[spec === null ? "hash" : "hashCheck"] as (
    src: number,
    rb: number,
    n: number,
    out: number,
    flags: number,
    spec: number,
  ) => void;
  // The memory never grows, so these views stay valid.
  const lanes = new Uint32Array(memory.buffer, 0, blockRows * 4);
  const heap = new Uint8Array(memory.buffer);
  const rowFlags = heap.subarray(flagsAt, flagsAt + blockRows);
  const buf0 = new Uint8Array(memory.buffer, bufAt, bufBytes);
  const buf1 = new Uint8Array(memory.buffer, bufAt + bufBytes, bufBytes);
  const staging = bufAt + 2 * bufBytes;
  if (spec !== null) {
    // Mask: 0x7fff on the u16 lane holding each element's top 16 bits (the
    // last of its size / 2 lanes), 0 on the others; threshold in every lane.
    const words = new Uint16Array(memory.buffer, specAt, 16);
    const per = spec.size / 2;
    for (let i = 0; i < 8; i++) {
      words[i] = i % per === per - 1 ? 0x7fff : 0;
      words[8 + i] = spec.threshold;
    }
  }
  const finish = (
    n: number,
    keys: Float64Array,
    tags: Int32Array,
    firstRow: number,
  ) => {
    for (let i = 0, q = 0; i < n; i++, q += 4) {
      const c0 = lanes[q],
        c1 = lanes[q + 1],
        c2 = lanes[q + 2],
        c3 = lanes[q + 3];
      const hi = keyHigh(c0, c1, c2, c3, rowBytes);
      keys[firstRow + i] = hi * 2097152 + (keyLow(c0, c1, c2, c3) >>> 11);
      tags[firstRow + i] = hi;
    }
  };
  return {
    buffers: [buf0, buf1],
    hash(block, keys, tags, firstRow, flags) {
      const rows = block.length / rowBytes;
      for (let done = 0; done < rows;) {
        const n = Math.min(blockRows, rows - done);
        const part = block.subarray(done * rowBytes, (done + n) * rowBytes);
        let ptr: number;
        if (part.buffer === memory.buffer) {
          ptr = part.byteOffset; // read straight into our memory: no copy
        } else {
          heap.set(part, staging);
          ptr = staging;
        }
        fn(ptr, rowBytes, n, 0, flagsAt, specAt);
        finish(n, keys, tags, firstRow + done);
        if (spec !== null && flags !== null) {
          flags.set(rowFlags.subarray(0, n), firstRow + done);
        }
        done += n;
      }
    },
  };
}

/** Whether two ranges of one buffer hold the same bytes. */
function rangesEqual(
  bytes: Uint8Array,
  words: Int32Array | null,
  a: number,
  b: number,
  length: number,
): boolean {
  if (words !== null) {
    // 4-byte words where the ranges allow it (always, for real embeddings).
    const wa = a >> 2;
    const wb = b >> 2;
    const n = length >> 2;
    for (let k = 0; k < n; k++) {
      if (words[wa + k] !== words[wb + k]) return false;
    }
    for (let k = n * 4; k < length; k++) {
      if (bytes[a + k] !== bytes[b + k]) return false;
    }
    return true;
  }
  for (let k = 0; k < length; k++) {
    if (bytes[a + k] !== bytes[b + k]) return false;
  }
  return true;
}

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
 * import { BlackHoleScanner } from "./black_holes.ts";
 * const bytes = new Uint8Array([4, 4, 5, 4]);
 * const s = new BlackHoleScanner(4, 1);
 * s.add(bytes.subarray(0, 2));
 * s.add(bytes.subarray(2));
 * const groups = s.candidates(); // [[0, 1, 3]]
 * s.resolve(groups, (g) => Uint8Array.from(g, (r) => bytes[r])).P; // 3
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
    const module = kernel();
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

/**
 * Splits a candidate group into classes of byte-identical rows. Classes keep
 * the group's (ascending) order; compares each row with one representative
 * per class, so a true cluster costs one comparison per member.
 */
function partitionEqual(
  bytes: Uint8Array,
  group: number[],
  rowBytes: number,
): number[][] {
  const reps: number[] = []; // index within the group of each class's first row
  const classes: number[][] = [];
  const words = bytes.byteOffset % 4 === 0 && rowBytes % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2)
    : null;
  for (let i = 0; i < group.length; i++) {
    let placed = false;
    for (let c = 0; c < reps.length; c++) {
      if (
        rangesEqual(bytes, words, reps[c] * rowBytes, i * rowBytes, rowBytes)
      ) {
        classes[c].push(group[i]);
        placed = true;
        break;
      }
    }
    if (!placed) {
      reps.push(i);
      classes.push([group[i]]);
    }
  }
  return classes;
}

function reportOf(
  rows: number,
  clusters: BlackHoleCluster[],
  nonFinite: number[],
): BlackHoleReport {
  clusters.sort((x, y) =>
    y.population - x.population || x.tokens[0] - y.tokens[0]
  );
  let P = 0;
  for (const c of clusters) P += c.population;
  return {
    rows,
    distinct: rows - nonFinite.length - P + clusters.length,
    C: clusters.length,
    P,
    clusters,
    nonFinite,
  };
}

function gather(matrix: RowMatrix, group: number[]): Uint8Array {
  const rb = matrix.rowBytes;
  const out = new Uint8Array(group.length * rb);
  group.forEach((r, i) =>
    out.set(matrix.bytes.subarray(r * rb, (r + 1) * rb), i * rb)
  );
  return out;
}

function checkMatrix(matrix: RowMatrix): void {
  const { bytes, rows, rowBytes } = matrix;
  if (!(bytes instanceof Uint8Array)) {
    throw new BlackHoleError("matrix.bytes must be a Uint8Array");
  }
  if (
    !Number.isSafeInteger(rows) || rows < 0 ||
    !Number.isSafeInteger(rowBytes) ||
    rowBytes < 0 || bytes.length !== rows * rowBytes
  ) {
    throw new BlackHoleError(
      `matrix of ${rows} rows x ${rowBytes} bytes needs ${
        rows * rowBytes
      } bytes, got ${bytes.length}`,
    );
  }
}

/**
 * Finds the black holes of a matrix held in memory, comparing rows bit for
 * bit in their stored bytes (any dtype).
 *
 * @example Rows 0, 2, 5 equal and rows 1, 4 equal
 * ```ts
 * import { findBlackHoles } from "./black_holes.ts";
 * const bytes = new Uint8Array([7, 7, 1, 2, 7, 7, 3, 4, 1, 2, 7, 7]);
 * const r = findBlackHoles({ bytes, rows: 6, rowBytes: 2 });
 * r.C; // 2
 * r.P; // 5
 * r.clusters; // [{population: 3, tokens: [0, 2, 5]}, {population: 2, tokens: [1, 4]}]
 * ```
 */
export function findBlackHoles(
  matrix: RowMatrix,
  options: BlackHoleOptions = {},
): BlackHoleReport {
  checkMatrix(matrix);
  const scanner = new BlackHoleScanner(matrix.rows, matrix.rowBytes, options);
  scanner.add(matrix.bytes);
  return scanner.resolve(scanner.candidates(), (g) => gather(matrix, g));
}

/** A matrix read on demand, see {@linkcode findBlackHolesStreaming}. */
export interface StreamingMatrix {
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
   * (see {@linkcode ScannerOptions.captureBytes}); default 64 MiB.
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
 * import { findBlackHolesStreaming } from "./black_holes.ts";
 * const bytes = new Uint8Array([5, 6, 5, 6, 9, 9]);
 * const r = await findBlackHolesStreaming({
 *   rows: 3,
 *   rowBytes: 2,
 *   readRows: (start, count, into) => {
 *     into.set(bytes.subarray(start * 2, (start + count) * 2));
 *     return Promise.resolve(into);
 *   },
 * });
 * r.clusters; // [{population: 2, tokens: [0, 1]}]
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

/** Options of {@linkcode findBlackHolesFloat32} (the dtype is always F32). */
export interface Float32BlackHoleOptions
  extends Omit<BlackHoleOptions, "dtype"> {
  /**
   * `"bits"` (default): rows are equal only if every float32 bit pattern is
   * equal, so +0 and -0 differ. `"value-zero"`: like `torch.unique`, +0 and
   * -0 count as equal. Rows holding NaN or ±Inf are never clustered in
   * either mode.
   */
  compare?: "bits" | "value-zero";
}

/**
 * Black holes of a float32 embedding `[rows, cols]`, comparing float32 bit
 * patterns. Bit-exact by default: `-0` and `+0` are different bit patterns
 * and so different vectors (`torch.unique` would merge them; pass
 * `compare: "value-zero"` for that). Rows holding a NaN or ±Inf are in no
 * cluster; they are listed in the report's `nonFinite`.
 *
 * @example
 * ```ts
 * import { findBlackHolesFloat32 } from "./black_holes.ts";
 * const e = new Float32Array([1, 2, 0, 0, 1, 2, -0, 0]);
 * findBlackHolesFloat32(e, 4, 2).P; // 2: rows 0 and 2
 * findBlackHolesFloat32(e, 4, 2, { compare: "value-zero" }).P; // 4
 * const nan = new Float32Array([NaN, 1, NaN, 1]);
 * findBlackHolesFloat32(nan, 2, 2).nonFinite; // [0, 1], and C = P = 0
 * ```
 */
export function findBlackHolesFloat32(
  embedding: Float32Array,
  rows: number,
  cols: number,
  options: Float32BlackHoleOptions = {},
): BlackHoleReport {
  if (embedding.length !== rows * cols) {
    throw new BlackHoleError(
      `embedding has ${embedding.length} values, expected ${rows} x ${cols}`,
    );
  }
  let source = embedding;
  if (options.compare === "value-zero") {
    source = embedding.slice();
    for (let i = 0; i < source.length; i++) if (source[i] === 0) source[i] = 0;
  } else if (options.compare !== undefined && options.compare !== "bits") {
    throw new BlackHoleError(
      `unknown compare mode ${JSON.stringify(options.compare)}`,
    );
  }
  return findBlackHoles({
    bytes: new Uint8Array(source.buffer, source.byteOffset, source.byteLength),
    rows,
    rowBytes: cols * 4,
  }, { ...options, dtype: "F32" });
}

/**
 * The mean row of a float32 matrix, accumulated in float64.
 *
 * @example
 * ```ts
 * import { centroid } from "./black_holes.ts";
 * centroid(new Float32Array([1, 2, 3, 6]), 2, 2); // Float64Array [2, 4]
 * ```
 */
export function centroid(
  embedding: Float32Array,
  rows: number,
  cols: number,
): Float64Array {
  if (embedding.length !== rows * cols || rows === 0) {
    throw new BlackHoleError(
      `embedding has ${embedding.length} values, expected ${rows} x ${cols} with rows > 0`,
    );
  }
  const sum = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) sum[c] += embedding[o + c];
  }
  for (let c = 0; c < cols; c++) sum[c] /= rows;
  return sum;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/**
 * L2 norm of the mean row (float64), as the seeds log it.
 *
 * @example
 * ```ts
 * import { centroidNorm } from "./black_holes.ts";
 * centroidNorm(new Float32Array([3, 0, 3, 8]), 2, 2); // 5: mean row [3, 4]
 * ```
 */
export function centroidNorm(
  embedding: Float32Array,
  rows: number,
  cols: number,
): number {
  return norm(centroid(embedding, rows, cols));
}

/**
 * L2 norm of the difference between the mean rows of two matrices of the
 * same shape (e.g. the final embedding and step 0).
 *
 * @example
 * ```ts
 * import { centroidDisplacement } from "./black_holes.ts";
 * const a = new Float32Array([0, 0, 0, 0]);
 * const b = new Float32Array([3, 4, 3, 4]);
 * centroidDisplacement(a, b, 2, 2); // 5
 * ```
 */
export function centroidDisplacement(
  a: Float32Array,
  b: Float32Array,
  rows: number,
  cols: number,
): number {
  const ca = centroid(a, rows, cols);
  const cb = centroid(b, rows, cols);
  for (let c = 0; c < cols; c++) ca[c] -= cb[c];
  return norm(ca);
}

const NAMED_BYTES: Record<number, string> = {
  0x09: "\\t",
  0x0a: "\\n",
  0x0d: "\\r",
  0x7f: "DEL",
};

/**
 * A printable label for a byte token (0..255): printable ASCII quoted
 * (`'a'`, `' '`, `'\''`), tab/newline/carriage return as `\t` `\n` `\r`,
 * 127 as `DEL`, anything else as `\xNN`.
 *
 * @example
 * ```ts
 * import { describeToken } from "./black_holes.ts";
 * describeToken(97); // "'a'"
 * describeToken(10); // "\\n"
 * describeToken(0); // "\\x00"
 * ```
 */
export function describeToken(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id > 255) {
    throw new RangeError(`describeToken: ${id} is not a byte token (0..255)`);
  }
  if (id in NAMED_BYTES) return NAMED_BYTES[id];
  if (id >= 0x20 && id < 0x7f) {
    const ch = String.fromCharCode(id);
    return ch === "'" || ch === "\\" ? `'\\${ch}'` : `'${ch}'`;
  }
  return `\\x${id.toString(16).padStart(2, "0")}`;
}
