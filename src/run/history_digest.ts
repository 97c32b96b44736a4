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
import { type FileHandle, open } from "node:fs/promises";
import { readAt } from "../io/read_at.ts";
import { headerLengthFrom } from "../io/safetensors/header.ts";
import { SafetensorsError } from "../io/safetensors/error.ts";

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
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (e) {
    return (e as { code?: unknown }).code === "ENOENT"
      ? "it is missing"
      : String(e);
  }
  try {
    const prefix = new Uint8Array(8);
    if (await readAt(file.fd, 0, prefix) < prefix.length) {
      return "it is shorter than its header";
    }
    let headerLength: number;
    try {
      headerLength = headerLengthFrom(prefix, (await file.stat()).size, path);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      return e.code === "header-too-large"
        ? "its header length is out of range"
        : "it is shorter than the checkpoint says";
    }
    const hash = createHash("sha256");
    const chunk = new Uint8Array(Math.min(dataBytes, 1 << 20));
    for (let done = 0; done < dataBytes;) {
      const into = chunk.subarray(0, Math.min(chunk.length, dataBytes - done));
      const got = await readAt(file.fd, 8 + headerLength + done, into);
      if (got < into.length) return "it is shorter than the checkpoint says";
      hash.update(into);
      done += got;
    }
    if (hash.copy().digest("hex") !== sha256) {
      return "its bytes do not match the checkpoint's digest";
    }
    return new HistoryDigest(hash, dataBytes);
  } finally {
    await file.close();
  }
}
