/**
 * Census of black-hole rows in a model on disk.
 *
 * Given a `.safetensors` file or a Hugging Face model folder, finds the
 * embedding (and unembedding) matrix by its usual name, streams it from disk
 * in row blocks and counts bit-identical rows with the same code as the
 * training experiments (`src/analysis/`, streamed by `scan.ts`), without decoding the
 * stored dtype. Tied vs untied heads are detected, and token strings are
 * attached when a `tokenizer.json` sits beside the weights. Rows holding NaN
 * or ±Inf are never counted as black holes; they are listed apart.
 *
 * @module
 */

import { type Dtype, rowBytesOf } from "../io/safetensors/mod.ts";
import { findBlackHolesStreaming, type StreamingOptions } from "./scan.ts";
import { CensusError } from "./census_error.ts";
import {
  type ModelWeights,
  openModelWeights,
  type WeightsFile,
} from "./model_files.ts";
import {
  GGUF_CENSUS_TYPES,
  type GgufStorage,
  storageNote,
} from "./gguf/types.ts";
import { loadTokenizer, TokenizerError, type TokenTable } from "./tokenizer.ts";
import { hubIdOf, type HubOptions, openHubWeights } from "./hub/weights.ts";
import {
  type IndicatorCensus,
  indicatorCensus,
  type IndicatorRequest,
  type NearCensus,
  nearCensus,
} from "./near/extras.ts";
import { checkTolerance, type NearTolerance } from "./near/near_rows.ts";
import { type FloatRows, isNearDtype, NEAR_DTYPES } from "./near/rows.ts";

export { CensusError } from "./census_error.ts";

/** Input-embedding names, most common first. */
const EMBEDDING_NAMES: readonly string[] = [
  "model.embed_tokens.weight", // Llama, Qwen2/3, Mistral, Gemma
  "transformer.wte.weight", // GPT-2, Qwen-1
  "wte.weight", // GPT-2 saved without prefix
  "model.decoder.embed_tokens.weight", // OPT
  "gpt_neox.embed_in.weight", // Pythia, GPT-NeoX
  "transformer.word_embeddings.weight", // BLOOM
  "transformer.embedding.word_embeddings.weight", // ChatGLM
  "model.language_model.embed_tokens.weight", // Gemma 3, multimodal wrappers
  "language_model.model.embed_tokens.weight", // LLaVA-style wrappers
  "model.embed_tokens", // rare: saved without ".weight"
  "embed_tokens.weight",
  "tok_embeddings.weight", // Meta's original Llama layout
  "embeddings.word_embeddings.weight", // BERT-style encoders
  "bert.embeddings.word_embeddings.weight",
  "token_embd.weight", // GGUF (llama.cpp), whose head is "output.weight"
];

/** Output-head (unembedding) names, most common first. */
const UNEMBEDDING_NAMES: readonly string[] = [
  "lm_head.weight",
  "embed_out.weight", // GPT-NeoX
  "language_model.lm_head.weight",
  "model.lm_head.weight",
  "output.weight", // Meta's original Llama layout
];

/** Options of {@linkcode runCensus} (the dtype is each tensor's own). */
export interface CensusOptions extends Omit<StreamingOptions, "dtype"> {
  /** Analyse exactly these tensors instead of looking for the usual names. */
  tensors?: readonly string[];
  /** Look for `tokenizer.json` beside the weights (default true). */
  tokenizer?: boolean;
  /**
   * Called once the headers and `tokenizer.json` are read, before any tensor
   * data is read (even by the tied-head check), with the path of every file the census reads: the
   * safetensors files, the shard index and `tokenizer.json` when they exist.
   * An exception it throws ends the census (e.g. the CLI refusing an `--out`
   * that names an input).
   */
  beforeScan?: (inputs: readonly string[]) => void | Promise<void>;
  /**
   * How a hub id (`<org>/<name>[@revision]`, when no such path exists) is
   * read: endpoint, token, cache folder, progress (default: `HF_ENDPOINT`,
   * `HF_TOKEN`, `HORIZON_CACHE_DIR`, silent).
   */
  hub?: HubOptions;
  /**
   * Also find near-identical rows within this tolerance (float tensors;
   * near/near_rows.ts). Off by default.
   */
  near?: NearTolerance;
  /** Also rank rows by under-trained-token indicators (near/indicators.ts). */
  indicators?: IndicatorRequest;
}

/** A cluster with its token strings. */
export interface CensusCluster {
  /** Rows sharing the vector. */
  population: number;
  /** Token ids, ascending. */
  tokens: number[];
  /** Token strings as stored in tokenizer.json (`null`: id not in it); absent without tokenizer. */
  labels?: (string | null)[];
}

/** Census of one tensor. */
export interface TensorCensus {
  /** Tensor name. */
  name: string;
  /** Why it was analysed. */
  role: "embedding" | "unembedding" | "embedding+unembedding" | "requested";
  /** The safetensors file holding it. */
  file: string;
  /** Stored dtype: a safetensors dtype, or a ggml type (`Q4_K`) in a GGUF file. */
  dtype: Dtype | string;
  /** How a GGUF tensor's rows are stored (blocks); absent for safetensors. */
  storage?: GgufStorage;
  /** `[rows, cols]`. */
  shape: number[];
  /** Distinct row vectors among the finite rows. */
  distinct: number;
  /** Clusters: distinct vectors held by >= 2 finite rows. */
  C: number;
  /** Rows in clusters. */
  P: number;
  /** All clusters, largest first (ties: smallest token id first). */
  clusters: CensusCluster[];
  /**
   * Rows (token ids), ascending, holding at least one NaN or ±Inf: excluded
   * from the clusters, `C`, `P` and `distinct`.
   */
  nonFinite: number[];
  /** Token strings of `nonFinite` (`null`: id not named); absent without tokenizer. */
  nonFiniteLabels?: (string | null)[];
  /** Seconds spent reading and hashing this tensor. */
  seconds: number;
  /** Near-identical clusters, when asked for (`--near`, `--cosine`). */
  near?: NearCensus;
  /** Under-trained-token indicators, when asked for (`--indicators`). */
  indicators?: IndicatorCensus;
}

/** How the output head relates to the input embedding. */
export interface Tying {
  /** `tied`: one matrix; `untied`: two different ones; `not-checked`: tensors chosen by hand. */
  status: "tied" | "untied" | "not-checked";
  /** One sentence saying how this was decided. */
  detail: string;
}

/** Everything the census found (this is also the `--json` output). */
export interface CensusReport {
  /** The path as given. */
  path: string;
  /** The safetensors files opened. */
  files: string[];
  /** The shard index when sharded, else `null`. */
  index: string | null;
  /** The tokenizer used for labels, if any. */
  tokenizer: { path: string; tokens: number } | null;
  /**
   * A `tokenizer.json` that is present but unusable (then `tokenizer` is
   * `null` and token ids are shown without strings), else `null`.
   */
  tokenizerError: { path: string; reason: string } | null;
  /** Tied or untied output head. */
  tying: Tying;
  /** One entry per analysed tensor. */
  tensors: TensorCensus[];
  /** Warnings that did not stop the census. */
  notes: string[];
  /** Wall-clock seconds of the whole census. */
  seconds: number;
}

function checkTensor(file: WeightsFile, name: string): {
  rows: number;
  rowBytes: number;
  dtype: string;
  shape: number[];
  storage?: GgufStorage;
} {
  const info = file.tensor(name);
  const supported: readonly string[] = info.storage !== undefined
    ? GGUF_CENSUS_TYPES
    : NEAR_DTYPES;
  if (!supported.includes(info.dtype)) {
    throw new CensusError(
      "unsupported-dtype",
      `tensor "${name}" has unsupported dtype ${info.dtype} (the census compares ${
        supported.join(", ")
      })`,
    );
  }
  if (info.shape.length !== 2) {
    throw new CensusError(
      "bad-tensor",
      `tensor "${name}" has shape [${
        info.shape.join(", ")
      }]; an embedding is 2-D [vocab, width]`,
    );
  }
  if (info.shape[1] === 0 && info.shape[0] > 0) {
    // Every empty row equals every other: "C = 1, P = rows" would be a
    // black hole made of nothing.
    throw new CensusError(
      "bad-tensor",
      `tensor "${name}" has shape [${
        info.shape.join(", ")
      }]: rows of width 0 hold no values, so there is nothing to compare`,
    );
  }
  return {
    rows: info.shape[0],
    rowBytes: info.rowBytes ??
      rowBytesOf({ dtype: info.dtype as Dtype, shape: info.shape }),
    dtype: info.dtype,
    shape: [...info.shape],
    ...(info.storage === undefined ? {} : { storage: info.storage }),
  };
}

async function analyse(
  weights: ModelWeights,
  name: string,
  role: TensorCensus["role"],
  tokens: TokenTable | null,
  options: CensusOptions,
): Promise<TensorCensus> {
  const file = weights.tensorFile.get(name)!;
  const { rows, rowBytes, dtype, shape, storage } = checkTensor(file, name);
  const t0 = performance.now();
  const report = await findBlackHolesStreaming({
    rows,
    rowBytes,
    // `into` lies in the hasher's memory: blocks are read where they are hashed.
    readRows: (start, count, into) =>
      file.readRows(name, start, count, { into }),
    readRowsSync: (start, count, into) =>
      file.readRowsSync(name, start, count, { into }),
  }, {
    ...options,
    // Quantized rows are opaque bytes: no NaN/Inf check.
    dtype: isNearDtype(dtype) ? dtype : undefined,
  });
  const seconds = (performance.now() - t0) / 1000;
  const extras = options.near === undefined && options.indicators === undefined
    ? {}
    : floatExtras(file, name, shape, dtype, {
      nonFinite: report.nonFinite,
      exactClusters: report.clusters.map((c) => c.tokens),
      tokens,
      options,
    });
  return {
    name,
    role,
    file: file.path,
    dtype,
    shape,
    ...(storage === undefined ? {} : { storage }),
    distinct: report.distinct,
    C: report.C,
    P: report.P,
    clusters: report.clusters.map((c) =>
      tokens === null
        ? c
        : { ...c, labels: c.tokens.map((id) => tokens.label(id)) }
    ),
    nonFinite: report.nonFinite,
    ...(tokens === null ? {} : {
      nonFiniteLabels: report.nonFinite.map((id) => tokens.label(id)),
    }),
    seconds,
    ...extras,
  };
}

/**
 * The near-identical and indicator parts of a float tensor. Quantized GGUF
 * rows are opaque blocks here, so they get neither (the census notes it).
 */
function floatExtras(
  file: WeightsFile,
  name: string,
  shape: number[],
  dtype: string,
  context: {
    nonFinite: number[];
    exactClusters: number[][];
    tokens: TokenTable | null;
    options: CensusOptions;
  },
): Pick<TensorCensus, "near" | "indicators"> {
  if (!isNearDtype(dtype)) return {};
  const m: FloatRows = {
    rows: shape[0],
    cols: shape[1],
    dtype,
    readRowsSync: (start, count, into) =>
      file.readRowsSync(name, start, count, { into }),
  };
  const { options, tokens, nonFinite: exclude } = context;
  return {
    ...(options.near === undefined ? {} : {
      near: nearCensus(m, options.near, {
        exclude,
        tokens,
        identical: context.exactClusters,
      }),
    }),
    ...(options.indicators === undefined ? {} : {
      indicators: indicatorCensus(m, options.indicators, {
        exclude,
        exactMembers: context.exactClusters.flat(),
        tokens,
      }),
    }),
  };
}

/** Streams two tensors and compares them byte for byte; stops at the first difference. */
async function sameBytes(
  a: { file: WeightsFile; name: string },
  b: { file: WeightsFile; name: string },
  blockBytes: number | undefined,
): Promise<boolean> {
  const ia = a.file.tensor(a.name);
  const ib = b.file.tensor(b.name);
  if (
    ia.dtype !== ib.dtype || ia.shape.length !== ib.shape.length ||
    ia.shape.some((d, k) => d !== ib.shape[k])
  ) return false;
  const ga = a.file.rowBlocks(a.name, { blockBytes });
  const gb = b.file.rowBlocks(b.name, { blockBytes });
  try {
    while (true) {
      const [x, y] = await Promise.all([ga.next(), gb.next()]);
      if (x.done || y.done) return x.done === y.done;
      const p = x.value.bytes;
      const q = y.value.bytes;
      if (p.length !== q.length) return false;
      // Word compare where both views are 4-aligned (always, for rowBlocks).
      const words = p.byteOffset % 4 === 0 && q.byteOffset % 4 === 0
        ? p.length >> 2
        : 0;
      const pw = new Int32Array(p.buffer, p.byteOffset, words);
      const qw = new Int32Array(q.buffer, q.byteOffset, words);
      for (let i = 0; i < words; i++) if (pw[i] !== qw[i]) return false;
      for (let i = words * 4; i < p.length; i++) {
        if (p[i] !== q[i]) return false;
      }
    }
  } finally {
    await ga.return(undefined);
    await gb.return(undefined);
  }
}

function availableNames(weights: ModelWeights): string {
  const names = [...weights.tensorFile.keys()];
  const shown = names.slice(0, 20).join(", ");
  return names.length > 20
    ? `${shown}, ... (${names.length} in all)`
    : shown || "(none)";
}

/**
 * Runs the census on a `.safetensors` file or a model folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCensus } from "./census.ts";
 * import { writeSafetensors } from "../io/safetensors/mod.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // A 4 x 2 embedding whose rows 1 and 2 are one vector: C = 1, P = 2.
 *   const data = new Float32Array([1, 2, 0, 0, 0, 0, 3, 4]);
 *   await writeSafetensors(`${dir}/model.safetensors`, {
 *     "model.embed_tokens.weight": { dtype: "F32", shape: [4, 2], data },
 *   });
 *   const report = await runCensus(dir);
 *   const [t] = report.tensors;
 *   assert.deepEqual([t.name, t.C, t.P], ["model.embed_tokens.weight", 1, 2]);
 *   assert.deepEqual(t.clusters[0].tokens, [1, 2]);
 *   assert.equal(report.tying.status, "tied"); // no lm_head.weight stored
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function runCensus(
  path: string,
  options: CensusOptions = {},
): Promise<CensusReport> {
  const t0 = performance.now();
  const blockBytes = options.blockBytes;
  if (
    blockBytes !== undefined &&
    (!Number.isSafeInteger(blockBytes) || blockBytes < 1)
  ) {
    throw new CensusError(
      "bad-option",
      `blockBytes must be a positive integer, got ${blockBytes}`,
    );
  }
  if (options.near !== undefined) checkTolerance(options.near);
  const hubId = await hubIdOf(path);
  const weights = hubId === null
    ? await openModelWeights(path)
    : await openHubWeights(hubId, options.hub);
  try {
    const notes: string[] = [];
    let tokens: TokenTable | null = null;
    let tokenizerError: CensusReport["tokenizerError"] = null;
    if (options.tokenizer !== false) {
      try {
        tokens = weights.tokens !== undefined
          ? weights.tokens()
          : await loadTokenizer(weights.dir);
      } catch (e) {
        if (!(e instanceof TokenizerError)) throw e;
        tokenizerError = { path: e.path, reason: e.reason };
      }
    }
    if (options.beforeScan !== undefined) {
      const inputs = weights.files.map((f) => f.path);
      if (weights.index !== null) inputs.push(weights.index);
      const tokenizerPath = tokens?.path ?? tokenizerError?.path;
      if (tokenizerPath !== undefined) inputs.push(tokenizerPath);
      await options.beforeScan(inputs);
    }

    const plan: Array<{ name: string; role: TensorCensus["role"] }> = [];
    let tying: Tying;
    if (options.tensors !== undefined && options.tensors.length > 0) {
      for (const name of new Set(options.tensors)) {
        if (!weights.tensorFile.has(name)) {
          throw new CensusError(
            "unknown-tensor",
            `no tensor named "${name}" in ${path}; available: ${
              availableNames(weights)
            }`,
          );
        }
        plan.push({ name, role: "requested" });
      }
      tying = {
        status: "not-checked",
        detail: "tensors were chosen with --tensor",
      };
    } else {
      const embed = EMBEDDING_NAMES.find((n) => weights.tensorFile.has(n));
      const head = UNEMBEDDING_NAMES.find((n) => weights.tensorFile.has(n));
      if (embed === undefined && head === undefined) {
        const likely = [...weights.tensorFile].filter(([n, f]) =>
          /embed|wte|lm_head|tok/i.test(n) && f.tensor(n).shape.length === 2
        ).map(([n]) => n);
        throw new CensusError(
          "no-embedding",
          `no embedding tensor found under the usual names (e.g. ${
            EMBEDDING_NAMES.slice(0, 3).join(", ")
          }); pass --tensor NAME. ${
            likely.length > 0
              ? `2-D tensors with embedding-like names: ${
                likely.slice(0, 10).join(", ")
              }${likely.length > 10 ? `, ... (${likely.length})` : ""}`
              : `Available: ${availableNames(weights)}`
          }`,
        );
      }
      if (embed !== undefined && head !== undefined) {
        checkTensor(weights.tensorFile.get(embed)!, embed);
        checkTensor(weights.tensorFile.get(head)!, head);
        await weights.prepare?.([embed, head]);
        const same = await sameBytes(
          { file: weights.tensorFile.get(embed)!, name: embed },
          { file: weights.tensorFile.get(head)!, name: head },
          blockBytes,
        );
        if (same) {
          tying = {
            status: "tied",
            detail:
              `${head} is byte-identical to ${embed} (one matrix stored twice)`,
          };
          plan.push({ name: embed, role: "embedding+unembedding" });
        } else {
          tying = {
            status: "untied",
            detail: `${embed} and ${head} differ, so both are analysed`,
          };
          plan.push({ name: embed, role: "embedding" }, {
            name: head,
            role: "unembedding",
          });
        }
      } else if (embed !== undefined) {
        tying = {
          status: "tied",
          detail:
            `no output-head tensor (e.g. lm_head.weight) is stored, so the head reuses ${embed} (Hugging Face convention)`,
        };
        plan.push({ name: embed, role: "embedding+unembedding" });
      } else {
        tying = {
          status: "untied",
          detail:
            `only the output head ${head} was found; no input embedding under the usual names`,
        };
        plan.push({ name: head!, role: "unembedding" });
      }
    }

    for (const { name } of plan) {
      checkTensor(weights.tensorFile.get(name)!, name);
    }
    const tensors: TensorCensus[] = [];
    await weights.prepare?.(plan.map((p) => p.name));
    for (const { name, role } of plan) {
      tensors.push(await analyse(weights, name, role, tokens, options));
    }
    for (const t of tensors) {
      if (t.storage !== undefined) notes.push(storageNote(t.name, t.storage));
      const asked = options.near !== undefined ||
        options.indicators !== undefined;
      if (asked && !isNearDtype(t.dtype)) {
        notes.push(
          `${t.name} is ${t.dtype}: near-identical rows and indicators need float rows (${
            NEAR_DTYPES.join(", ")
          }), so they were skipped`,
        );
      }
    }
    if (tokens !== null) {
      for (const t of tensors) {
        if (t.shape[0] < tokens.size) {
          notes.push(
            `${t.name} has ${
              t.shape[0]
            } rows but tokenizer.json names ${tokens.size} tokens; labels may not match rows`,
          );
        }
      }
    }
    return {
      path,
      files: weights.files.map((f) => f.path),
      index: weights.index,
      tokenizer: tokens === null
        ? null
        : { path: tokens.path, tokens: tokens.size },
      tokenizerError,
      tying,
      tensors,
      notes,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    weights.close();
  }
}
