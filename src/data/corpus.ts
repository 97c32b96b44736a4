/**
 * Loading a byte-level training corpus.
 *
 * A corpus is a flat byte string; every byte is a token id. The seed notebooks
 * read a text file, keep the bytes below the vocabulary size and train on
 * windows of `context + 1` bytes at every offset, so a corpus of `N` bytes has
 * `N - context` windows. Bytes that never occur are the "dead" tokens whose
 * embeddings collapse into black holes; this module counts them up front.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { CodedError } from "../errors/coded_error.ts";

/** What went wrong while loading a corpus (see {@linkcode CorpusError}). */
export type CorpusErrorCode =
  | "not-found"
  | "not-a-file"
  | "unreadable"
  | "empty"
  | "too-short"
  | "too-large"
  | "out-of-vocab"
  | "invalid-option";

/**
 * A corpus cannot be used as asked: the message says why in words meant for
 * the person running the experiment, `code` says it for programs.
 *
 * @example Telling a corpus problem apart from a bug
 * ```ts
 * import { CorpusError, corpusFromBytes } from "./corpus.ts";
 * try {
 *   corpusFromBytes(new Uint8Array([1, 2]), { context: 4 });
 * } catch (e) {
 *   if (!(e instanceof CorpusError)) throw e;
 *   console.log(e.code); // "too-short"
 * }
 * ```
 */
export class CorpusError extends CodedError<CorpusErrorCode> {}

/**
 * Most bytes {@linkcode loadCorpus} reads: 256 MiB, a thousand times the
 * Brown corpus. A corpus is held in memory (twice, while it is checked), so
 * a path such as `/dev/zero` must end in an error, not in the OOM killer.
 */
export const MAX_CORPUS_BYTES = 256 * 2 ** 20;

/** How to treat bytes that are not token ids (`byte >= vocabSize`). */
export type CorpusFilter = "error" | "drop";

/** Options of {@linkcode loadCorpus} and {@linkcode corpusFromBytes}. */
export interface CorpusOptions {
  /** Number of token ids; bytes must be below it. Default 128 (ASCII). */
  vocabSize?: number;
  /** Input length of one window; a window holds `context + 1` bytes. Default 128. */
  context?: number;
  /**
   * `"error"` (default) rejects a corpus with bytes `>= vocabSize`; `"drop"`
   * removes them silently like the seed notebooks do, and counts them in
   * {@linkcode Corpus.dropped}.
   */
  filter?: CorpusFilter;
  /**
   * Windows one batch takes (the run's `batchSize`; default 1): a corpus
   * needs at least `context + batchSize` bytes, or no full batch can be
   * formed and training would fail after the model is built.
   */
  batchSize?: number;
  /** Stops {@linkcode loadCorpus}'s reading (SIGTERM while reading). */
  signal?: AbortSignal;
}

/** A loaded corpus and the facts the experiments need about it. */
export interface Corpus {
  /** The token ids (after filtering). */
  bytes: Uint8Array;
  /** Lower-case hex SHA-256 of {@linkcode Corpus.bytes} (the filtered bytes). */
  sha256: string;
  /** Number of distinct byte values in the corpus. */
  distinct: number;
  /** Token ids below `vocabSize` that never occur, ascending. */
  deadTokens: number[];
  /** Token ids that occur at least once, ascending. */
  liveTokens: number[];
  /** Number of training windows: `bytes.length - context`. */
  windows: number;
  /** Number of bytes removed by `filter: "drop"` (always 0 with `"error"`). */
  dropped: number;
  /** The vocabulary size the corpus was checked against. */
  vocabSize: number;
  /** The context length the windows were counted for. */
  context: number;
}

function checkOptions(
  opts: CorpusOptions,
): {
  vocabSize: number;
  context: number;
  filter: CorpusFilter;
  batchSize: number;
} {
  const vocabSize = opts.vocabSize ?? 128;
  const context = opts.context ?? 128;
  const filter = opts.filter ?? "error";
  const batchSize = opts.batchSize ?? 1;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new CorpusError(
      "invalid-option",
      `batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  // Token ids are bytes, so a vocabulary beyond 256 ids could never be filled.
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 256) {
    throw new CorpusError(
      "invalid-option",
      `vocabSize must be an integer in 1..256, got ${vocabSize}`,
    );
  }
  if (!Number.isInteger(context) || context < 1) {
    throw new CorpusError(
      "invalid-option",
      `context must be a positive integer, got ${context}`,
    );
  }
  if (filter !== "error" && filter !== "drop") {
    throw new CorpusError(
      "invalid-option",
      `filter must be "error" or "drop", got ${JSON.stringify(filter)}`,
    );
  }
  return { vocabSize, context, filter, batchSize };
}

function hex(byte: number): string {
  return "0x" + byte.toString(16).padStart(2, "0");
}

/**
 * Checks and describes a corpus already in memory. `origin` only names the
 * corpus in error messages.
 *
 * @example A tiny corpus with two windows of context 3
 * ```ts
 * import { corpusFromBytes } from "./corpus.ts";
 * const c = corpusFromBytes(new TextEncoder().encode("abcab"), { context: 3 });
 * console.log(c.windows, c.distinct, c.liveTokens); // 2 3 [97, 98, 99]
 * ```
 */
export function corpusFromBytes(
  input: Uint8Array,
  opts: CorpusOptions = {},
  origin = "corpus",
): Corpus {
  const { vocabSize, context, filter, batchSize } = checkOptions(opts);
  if (input.length === 0) {
    throw new CorpusError("empty", `${origin} is empty`);
  }

  let outOfVocab = 0;
  let firstOffset = -1;
  for (let i = 0; i < input.length; i++) {
    if (input[i] >= vocabSize) {
      if (firstOffset < 0) firstOffset = i;
      outOfVocab++;
    }
  }

  let bytes: Uint8Array;
  if (outOfVocab === 0) {
    // Copy so that later edits of the caller's buffer cannot change a corpus
    // whose hash has already been taken.
    bytes = input.slice();
  } else if (filter === "error") {
    throw new CorpusError(
      "out-of-vocab",
      `${origin} has ${outOfVocab} byte(s) >= vocabSize ${vocabSize}; ` +
        `the first is ${hex(input[firstOffset])} at offset ${firstOffset}. ` +
        `Use filter "drop" to remove them as the seed notebooks do.`,
    );
  } else {
    bytes = new Uint8Array(input.length - outOfVocab);
    let j = 0;
    for (let i = 0; i < input.length; i++) {
      if (input[i] < vocabSize) bytes[j++] = input[i];
    }
  }

  if (bytes.length < context + Math.max(1, batchSize)) {
    const what = outOfVocab > 0 && filter === "drop"
      ? `${bytes.length} byte(s) after dropping ${outOfVocab}`
      : `${bytes.length} byte(s)`;
    throw new CorpusError(
      "too-short",
      batchSize === 1
        ? `${origin} has ${what}; at least context + 1 = ${
          context + 1
        } are needed for one training window`
        : `${origin} has ${what}; at least seqLen + batchSize = ${context} + ${batchSize} = ${
          context + batchSize
        } are needed for one batch of ${batchSize} training windows`,
    );
  }

  const seen = new Uint8Array(vocabSize);
  for (let i = 0; i < bytes.length; i++) seen[bytes[i]] = 1;
  const deadTokens: number[] = [];
  const liveTokens: number[] = [];
  for (let t = 0; t < vocabSize; t++) {
    (seen[t] ? liveTokens : deadTokens).push(t);
  }

  return {
    bytes,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    distinct: liveTokens.length,
    deadTokens,
    liveTokens,
    windows: bytes.length - context,
    dropped: outOfVocab,
    vocabSize,
    context,
  };
}

/**
 * Reads a corpus file and checks it like {@linkcode corpusFromBytes}. Every
 * problem (missing file, empty, too short, bytes outside the vocabulary) is a
 * {@linkcode CorpusError} with a message fit to show as is.
 *
 * @example Loading the committed Brown corpus fixture
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCorpus } from "./corpus.ts";
 * const brown = new URL("../../fixtures/corpus/brown.txt", import.meta.url);
 * const c = await loadCorpus(brown.pathname);
 * assert.deepEqual(
 *   [c.bytes.length, c.distinct, c.deadTokens.length],
 *   [265_905, 77, 51],
 * );
 * ```
 */
export async function loadCorpus(
  path: string,
  opts: CorpusOptions = {},
): Promise<Corpus> {
  // Check options before touching the file so that a bad call is reported as
  // such even when the path is also wrong.
  checkOptions(opts);
  let data: Uint8Array;
  try {
    data = await readBounded(path, opts.signal);
  } catch (e) {
    if (e instanceof CorpusError || e === opts.signal?.reason) throw e;
    if (e instanceof Deno.errors.NotFound) {
      throw new CorpusError("not-found", `corpus file not found: ${path}`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new CorpusError(
        "not-a-file",
        `corpus path is a directory: ${path}`,
      );
    }
    const why = e instanceof Error ? e.message : String(e);
    throw new CorpusError(
      "unreadable",
      `cannot read corpus file ${path}: ${why}`,
    );
  }
  return corpusFromBytes(data, opts, `corpus file ${path}`);
}

/**
 * The bytes of `path`, read in chunks: at most {@linkcode MAX_CORPUS_BYTES}
 * (a larger or endless file is a CorpusError naming the limit), stopping
 * between chunks when `signal` aborts.
 */
async function readBounded(
  path: string,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const info = await file.stat();
  if (info.isDirectory) throw new Deno.errors.IsADirectory(path);
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    signal?.throwIfAborted();
    const chunk = new Uint8Array(1 << 20);
    const n = await file.read(chunk);
    if (n === null) break;
    total += n;
    if (total > MAX_CORPUS_BYTES) {
      throw new CorpusError(
        "too-large",
        `corpus file ${path} is larger than ${MAX_CORPUS_BYTES} bytes (256 MiB, MAX_CORPUS_BYTES in src/data/corpus.ts); reading it would hold ${
          info.isFile ? `${info.size} bytes` : "an endless stream"
        } in memory`,
      );
    }
    chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
  }
  const data = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return data;
}
