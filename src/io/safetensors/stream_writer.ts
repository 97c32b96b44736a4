/**
 * Writing a safetensors file piece by piece: the header first (the shapes
 * are known up front), then the data as it comes, for histories too large
 * to hold in memory. The file is written under a temporary name and renamed
 * into place on `close()` (`pendingFile` of `atomic.ts`); a stable
 * temporary name lets an interrupted write be resumed.
 *
 * @module
 */

import { type PendingFile, pendingFile } from "../atomic.ts";
import { ioReason, SafetensorsError } from "./error.ts";
import {
  asBytes,
  checkSpecs,
  encodeHeader,
  type TensorSpec,
} from "./writer.ts";

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSafetensorsStreamWriter } from "./stream_writer.ts";
 * import { openSafetensors } from "./reader.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const path = `${dir}/history.safetensors`;
 *   const w = await createSafetensorsStreamWriter(path, {
 *     tensors: [{ name: "wte", dtype: "BF16", shape: [3, 4, 2] }],
 *   });
 *   try {
 *     for (let step = 0; step < 3; step++) {
 *       await w.append("wte", new Uint8Array(16)); // one [4, 2] bf16 snapshot
 *     }
 *     await w.close();
 *   } catch (e) {
 *     await w.abort();
 *     throw e;
 *   }
 *   const file = await openSafetensors(path);
 *   try {
 *     assert.deepEqual(file.tensor("wte").shape, [3, 4, 2]);
 *   } finally {
 *     file.close();
 *   }
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
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
  const resumeAt = partial?.resumeDataBytes;
  checkResumePoint(path, resumeAt, lengths);
  const pending = pendingFile(path, { tempPath: partial?.path });
  let file: Deno.FsFile;
  try {
    file = resumeAt === undefined
      ? await createWithHeader(pending.tempPath, header, !partial)
      : await reopenAt(pending.tempPath, header, resumeAt);
  } catch (e) {
    if (resumeAt === undefined) await pending.discard();
    throw new SafetensorsError("io", path, `cannot write (${ioReason(e)})`);
  }
  const writer = new StreamWriter(
    new TensorCursor(specs, lengths, resumeAt),
    file,
    pending,
  );
  // Plain closures, as before the class: the methods may be passed around
  // without their object.
  return {
    path,
    append: (name, bytes) => writer.append(name, bytes),
    close: () => writer.close(),
    abort: () => writer.abort(),
    sync: () => writer.sync(),
  };
}

/** Rejects a resume point outside the declared data. */
function checkResumePoint(
  path: string,
  resumeAt: number | undefined,
  lengths: readonly number[],
): void {
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
}

/** A new temporary file holding just the header. */
async function createWithHeader(
  tmp: string,
  header: Uint8Array,
  createNew: boolean,
): Promise<Deno.FsFile> {
  const file = await Deno.open(tmp, {
    write: true,
    create: true,
    truncate: true,
    createNew,
  });
  await writeAll(file, header);
  return file;
}

/** The first `length` bytes of the file at `path`, fewer if it is shorter. */
async function readHead(path: string, length: number): Promise<Uint8Array> {
  const existing = await Deno.open(path, { read: true });
  const head = new Uint8Array(length);
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
  return head.subarray(0, got);
}

/**
 * An interrupted write's temporary file, cut back to `resumeAt` data bytes
 * and positioned to append after them; it must hold the same header.
 */
async function reopenAt(
  tmp: string,
  header: Uint8Array,
  resumeAt: number,
): Promise<Deno.FsFile> {
  const head = await readHead(tmp, header.length);
  if (head.length !== header.length || head.some((b, i) => b !== header[i])) {
    throw new Error("the partial file has another header");
  }
  if ((await Deno.stat(tmp)).size < header.length + resumeAt) {
    throw new Error("the partial file is shorter than the resume point");
  }
  const file = await Deno.open(tmp, { write: true });
  await file.truncate(header.length + resumeAt);
  await file.seek(0, Deno.SeekMode.End);
  return file;
}

/**
 * Which declared tensor the next append fills and how much of it is written;
 * appends are checked against it at call time, in call order.
 */
class TensorCursor {
  readonly #specs: readonly TensorSpec[];
  readonly #lengths: readonly number[];
  #index = 0; // tensor being filled
  #filled = 0; // bytes of it so far
  #appended = 0; // data bytes accepted so far

  /** `resumeAt` data bytes are already on disk. */
  constructor(
    specs: readonly TensorSpec[],
    lengths: readonly number[],
    resumeAt: number | undefined,
  ) {
    this.#specs = specs;
    this.#lengths = lengths;
    if (resumeAt !== undefined) this.#skipResumed(resumeAt);
    this.#skipComplete(); // zero-size tensors need no append
  }

  /** Data bytes accepted so far. */
  get appended(): number {
    return this.#appended;
  }

  /** Why `byteLength` bytes of tensor `name` cannot come next, or `null`. */
  refusal(name: string, byteLength: number): string | null {
    if (this.#index >= this.#specs.length) {
      return `append("${name}"): all declared tensors are already complete`;
    }
    const spec = this.#specs[this.#index];
    const length = this.#lengths[this.#index];
    if (name !== spec.name) {
      return `append("${name}"): expected data for tensor "${spec.name}" (${this.#filled} of ${length} bytes written); tensors must be appended in declared order`;
    }
    if (this.#filled + byteLength > length) {
      return `append("${name}"): ${byteLength} bytes would exceed the tensor's ${length} bytes (${this.#filled} already written)`;
    }
    return null;
  }

  /** Counts `byteLength` accepted bytes. */
  advance(byteLength: number): void {
    this.#filled += byteLength;
    this.#appended += byteLength;
    this.#skipComplete();
  }

  /** The first incomplete tensor and how much of it is written, or `null`. */
  incomplete(): string | null {
    if (this.#index >= this.#specs.length) return null;
    return `tensor "${this.#specs[this.#index].name}" has ${this.#filled} of ${
      this.#lengths[this.#index]
    } bytes`;
  }

  /** Already on disk: fills the declared tensors up to the resume point. */
  #skipResumed(resumeAt: number): void {
    let left = resumeAt;
    while (
      this.#index < this.#specs.length &&
      left >= this.#lengths[this.#index] - this.#filled
    ) {
      left -= this.#lengths[this.#index] - this.#filled;
      this.#index++;
      this.#filled = 0;
    }
    this.#filled += left;
    this.#appended = resumeAt;
  }

  #skipComplete(): void {
    while (
      this.#index < this.#specs.length &&
      this.#filled === this.#lengths[this.#index]
    ) {
      this.#index++;
      this.#filled = 0;
    }
  }
}

/**
 * The file side of a {@linkcode SafetensorsStreamWriter}: appends checked
 * by a {@linkcode TensorCursor}, then written in call order through a
 * staging buffer, and the temporary file committed or discarded.
 */
class StreamWriter {
  readonly #path: string;
  readonly #cursor: TensorCursor;
  readonly #file: Deno.FsFile;
  readonly #pending: PendingFile;
  // Small appends (one snapshot at a time) are coalesced into large writes.
  readonly #staging = new Uint8Array(4 * 1024 * 1024);
  #staged = 0;
  #state: "open" | "failed" | "closed" | "aborted" = "open";
  // File writes run one after another in call order, even if not awaited.
  #chain: Promise<void> = Promise.resolve();

  /** `file` is open and positioned after what it already holds. */
  constructor(cursor: TensorCursor, file: Deno.FsFile, pending: PendingFile) {
    this.#path = pending.path;
    this.#cursor = cursor;
    this.#file = file;
    this.#pending = pending;
  }

  append(name: string, view: ArrayBufferView): Promise<void> {
    if (this.#state !== "open") {
      return Promise.reject(
        this.#stateError(`append after the writer was ${this.#state}`),
      );
    }
    if (!ArrayBuffer.isView(view)) {
      return Promise.reject(
        new SafetensorsError(
          "invalid-argument",
          this.#path,
          "append: bytes must be a typed array",
        ),
      );
    }
    const bytes = asBytes(view);
    const refusal = this.#cursor.refusal(name, bytes.length);
    if (refusal !== null) return Promise.reject(this.#stateError(refusal));
    this.#cursor.advance(bytes.length);
    return this.#enqueue(() => this.#write(bytes));
  }

  async close(): Promise<void> {
    if (this.#state === "closed" || this.#state === "aborted") {
      throw this.#stateError(`close after the writer was ${this.#state}`);
    }
    await this.#chain;
    if (this.#state === "failed") {
      await this.abort();
      throw this.#stateError(
        "close after a failed write; the file was not written",
      );
    }
    const missing = this.#cursor.incomplete();
    if (missing !== null) {
      await this.abort();
      throw this.#stateError(`close: ${missing}; the file was not written`);
    }
    this.#state = "closed";
    try {
      try {
        await this.#flush();
      } finally {
        this.#file.close();
      }
      await this.#pending.commit();
    } catch (e) {
      await this.#pending.discard();
      throw new SafetensorsError(
        "io",
        this.#path,
        `cannot write (${ioReason(e)})`,
      );
    }
  }

  async abort(): Promise<void> {
    if (this.#state === "closed" || this.#state === "aborted") return;
    this.#state = "aborted";
    await this.#chain;
    try {
      this.#file.close();
    } finally {
      await this.#pending.discard();
    }
  }

  sync(): Promise<number> {
    const at = this.#cursor.appended;
    return this.#enqueue(() => this.#flush()).then(() => at);
  }

  #stateError(what: string): SafetensorsError {
    return new SafetensorsError("writer-state", this.#path, what);
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(async () => {
      if (this.#state === "failed") {
        throw this.#stateError("an earlier write failed");
      }
      try {
        await work();
      } catch (e) {
        this.#state = "failed";
        throw new SafetensorsError(
          "io",
          this.#path,
          `write failed (${ioReason(e)})`,
        );
      }
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Stages `bytes`, or writes them straight through when they are large. */
  async #write(bytes: Uint8Array): Promise<void> {
    const staging = this.#staging;
    if (bytes.length > staging.length - this.#staged) await this.#flush();
    if (bytes.length >= staging.length) {
      await writeAll(this.#file, bytes);
    } else {
      staging.set(bytes, this.#staged);
      this.#staged += bytes.length;
    }
  }

  async #flush(): Promise<void> {
    if (this.#staged > 0) {
      await writeAll(this.#file, this.#staging.subarray(0, this.#staged));
      this.#staged = 0;
    }
  }
}
