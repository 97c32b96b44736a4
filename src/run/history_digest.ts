/**
 * The running SHA-256 of a checkpointed run's embedding history: the data
 * bytes appended so far, so that each checkpoint can vouch for the partial
 * history file up to the point it resumes from without re-reading it. A
 * resumed run first checks the partial file's bytes against the
 * checkpoint's digest ({@link verifyHistoryPrefix}), then keeps hashing from
 * there.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";

/** The SHA-256 of the history data appended so far. */
export class HistoryDigest {
  #hash: Hash;
  #bytes: number;

  /** Continues `hash`, which has taken `bytes` bytes (default: a new hash). */
  constructor(hash: Hash = createHash("sha256"), bytes = 0) {
    this.#hash = hash;
    this.#bytes = bytes;
  }

  /** Adds the next appended bytes. */
  update(bytes: Uint8Array): void {
    this.#hash.update(bytes);
    this.#bytes += bytes.length;
  }

  /** Number of bytes taken so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Lower-case hex SHA-256 of the bytes so far (the hash goes on). */
  hex(): string {
    return this.#hash.copy().digest("hex");
  }
}

/**
 * The digest of the first `dataBytes` data bytes (after the safetensors
 * header) of the partial history at `path`, continued as a
 * {@link HistoryDigest}, when they hash to `sha256`; else why not, in
 * words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHash } from "node:crypto";
 * import { verifyHistoryPrefix } from "./history_digest.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const file = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 123, 125, 7, 8, 9]);
 *   await Deno.writeFile(`${dir}/h.partial`, file);
 *   const sha = createHash("sha256").update(new Uint8Array([7, 8])).digest("hex");
 *   const ok = await verifyHistoryPrefix(`${dir}/h.partial`, 2, sha);
 *   assert.ok(typeof ok !== "string" && ok.bytes === 2);
 *   assert.match(
 *     await verifyHistoryPrefix(`${dir}/h.partial`, 3, sha) as string,
 *     /do not match/,
 *   );
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function verifyHistoryPrefix(
  path: string,
  dataBytes: number,
  sha256: string,
): Promise<HistoryDigest | string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? "it is missing" : String(e);
  }
  try {
    const head = await readExactly(file, 8);
    if (!head) return "it is shorter than its header";
    const headerLength = new DataView(head.buffer).getBigUint64(0, true);
    if (headerLength > BigInt(Number.MAX_SAFE_INTEGER)) {
      return "its header length is out of range";
    }
    await file.seek(8 + Number(headerLength), Deno.SeekMode.Start);
    const hash = createHash("sha256");
    const chunk = new Uint8Array(1 << 20);
    let left = dataBytes;
    while (left > 0) {
      const n = await file.read(
        chunk.subarray(0, Math.min(left, chunk.length)),
      );
      if (n === null) return "it is shorter than the checkpoint says";
      hash.update(chunk.subarray(0, n));
      left -= n;
    }
    if (hash.copy().digest("hex") !== sha256) {
      return "its bytes do not match the checkpoint's digest";
    }
    return new HistoryDigest(hash, dataBytes);
  } finally {
    file.close();
  }
}

/** The next `n` bytes of `file`, or null when it ends first. */
async function readExactly(
  file: Deno.FsFile,
  n: number,
): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await file.read(out.subarray(got));
    if (k === null) return null;
    got += k;
  }
  return out;
}
