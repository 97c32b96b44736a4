/**
 * Writing a safetensors file piece by piece: the header first (the shapes
 * are known up front), then the data as it comes, for histories too large
 * to hold in memory. The file is written under a temporary name and renamed
 * into place on `close()` (`pendingFile` of `atomic.ts`); a stable
 * temporary name lets an interrupted write be resumed.
 *
 * @module
 */

import { pendingFile } from "../atomic.ts";
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
  const pending = pendingFile(path, { tempPath: partial?.path });
  const tmp = pending.tempPath;
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
    if (resumeAt === undefined) await pending.discard();
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
      await pending.discard();
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
      await pending.commit();
    } catch (e) {
      await pending.discard();
      throw new SafetensorsError("io", path, `cannot write (${ioReason(e)})`);
    }
  };

  const sync = (): Promise<number> => {
    const at = appended;
    return enqueue(flush).then(() => at);
  };

  return { path, append, close, abort, sync };
}
