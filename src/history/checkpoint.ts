/**
 * Run checkpoints: everything needed to continue an interrupted run so that
 * it ends bit-identical to an uninterrupted one — the resident state
 * (parameters and both AdamW moments), the host streams' position, the
 * losses so far, and the analysis state (trajectory, first split/escape, the
 * step-0 embedding, how much history was written and the SHA-256 of those
 * history bytes). Stored as safetensors bytes (about 1.5 MB for the seeds'
 * model), in a file for local runs or a Redis key for queue workers (see
 * {@link CheckpointStore}).
 *
 * A checkpoint carries a seal over its own content (every tensor's name,
 * dtype, shape and bytes, and every metadata entry), checked before anything
 * in it is used: a flipped bit or an edited field makes it a
 * {@link CheckpointError}, never a silently different run. A checkpoint kept
 * in a file is sealed with an HMAC-SHA-256 under a key of its folder
 * (`.checkpoint-seal.key`: 32 random bytes, mode 0600, created once by the
 * first run that saves or loads a checkpoint there; see
 * {@link fileCheckpointStore}); a store without a key (Redis, whose access the
 * queue's ACL guards, and whose checkpoints any worker must be able to
 * resume) seals with a plain SHA-256.
 *
 * Threat model. Caught: accidental corruption (a flipped bit, a truncated or
 * half-copied file) and hand edits, including an edit whose editor recomputes
 * the SHA-256 of the content, since the seal needs the key; a checkpoint of
 * the previous format (`horizon-checkpoint/2`, a SHA-256 only, which anyone
 * can recompute) is not trusted by a keyed store: it is discarded and the
 * run trains from step 0. Trusted: anyone who can read the key file (the
 * user who owns the cache can, by design; the key guards against mistakes
 * and careless edits, not against that user). A record written from a
 * checkpoint such a user edited is still checked for consistency before it
 * is written (`run/record_write.ts`).
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";
import { dirname } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { createWhole } from "../io/create_whole.ts";
import { readFileOrNull } from "../io/read_or_null.ts";
import {
  encodeSafetensors,
  parseSafetensors,
  type TensorData,
} from "../io/safetensors/mod.ts";
import type { TrainerCheckpoint } from "../runtime/trainer.ts";
import type { HostStreamsSnapshot } from "../step/host_streams.ts";
import type { TrajectoryRecord } from "../hypothesis/types.ts";
import { CACHE_DIR } from "./locations.ts";
import { CodedError } from "../errors/coded_error.ts";

/** Where a run's checkpoints are kept (a file, a Redis key, ...). */
export interface CheckpointStore {
  /** Where it is, for messages (a path); default "the checkpoint". */
  readonly name?: string;
  /** The latest checkpoint's bytes, or null. */
  load(): Promise<Uint8Array | null>;
  /** Replaces the checkpoint (must be atomic: a reader sees old or new). */
  save(bytes: Uint8Array): Promise<void>;
  /** Removes it (the run completed). */
  clear(): Promise<void>;
  /**
   * The key that seals this store's checkpoints (HMAC-SHA-256); absent: a
   * plain SHA-256, for a store guarded otherwise (Redis with its ACL).
   */
  sealKey?(): Promise<Uint8Array>;
}

/**
 * Format tag in a checkpoint's metadata. Version 2 added the content digest
 * and the history digest (a version-1 checkpoint is not resumed from);
 * version 3 the seal (`seal`: `hmac-sha256` or `sha256`).
 */
export const CHECKPOINT_FORMAT = "horizon-checkpoint/3";

/**
 * The format before seals (a SHA-256 only): refused by a store with a seal
 * key (see the module's threat model); a store without one checks nothing
 * more of a current checkpoint, so it still reads this format.
 */
export const LEGACY_CHECKPOINT_FORMAT = "horizon-checkpoint/2";

/** A run's checkpoint: the trainer's state plus the analysis so far. */
export interface RunCheckpoint {
  /** Run key of the run it belongs to. */
  readonly key: string;
  readonly trainer: TrainerCheckpoint;
  readonly trajectory: Pick<
    TrajectoryRecord,
    "step" | "C" | "P" | "centroidNorm"
  >;
  readonly firstSplit: TrajectoryRecord["firstSplit"];
  readonly firstEscape: TrajectoryRecord["firstEscape"];
  /** The embedding at step 0 [V*d]. */
  readonly firstEmbedding: Float32Array;
  /** Data bytes of the embedding history written up to this step (null: none). */
  readonly historyBytes: number | null;
  /**
   * Lower-case hex SHA-256 of those `historyBytes` data bytes (null: no
   * history), checked against the partial history file before resuming.
   */
  readonly historySha256: string | null;
}

type Data = Float32Array | Float64Array | Int32Array;

function dtypeOf(a: Data): "F32" | "F64" | "I32" {
  return a instanceof Float32Array
    ? "F32"
    : a instanceof Float64Array
    ? "F64"
    : "I32";
}

/** The metadata key of the content digest (the seal's value). */
const DIGEST = "digest";

/** The metadata key naming how the digest was made. */
const SEAL = "seal";

/** One tensor as the content digest takes it. */
type ContentTensor = {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
};

/**
 * The digest of a checkpoint's content: the metadata (but the digest itself)
 * and each tensor's name, dtype, shape and bytes, in the order given; an
 * HMAC-SHA-256 under `key`, or a SHA-256 without one.
 */
function contentDigest(
  tensors: readonly ContentTensor[],
  metadata: Record<string, string>,
  key: Uint8Array | null,
): string {
  const hash = key ? createHmac("sha256", key) : createHash("sha256");
  const meta = Object.entries(metadata).filter(([k]) => k !== DIGEST).sort((
    [a],
    [b],
  ) => a < b ? -1 : a > b ? 1 : 0);
  hash.update(JSON.stringify(meta));
  for (const t of tensors) {
    hash.update(JSON.stringify([t.name, t.dtype, t.shape, t.bytes.length]));
    hash.update(t.bytes);
  }
  return hash.digest("hex");
}

/** The bytes of a typed array (a view, no copy). */
function bytesOf(a: Data): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Named 1-D arrays and string metadata as safetensors bytes, sealed: the
 * seal's kind and the content digest added to the metadata.
 */
function encode(
  tensors: Record<string, Data>,
  metadata: Record<string, string>,
  key: Uint8Array | null,
): Uint8Array {
  const data: Record<string, TensorData> = {};
  const content: ContentTensor[] = [];
  for (const [name, a] of Object.entries(tensors)) {
    const dtype = dtypeOf(a);
    data[name] = { dtype, shape: [a.length], data: a };
    content.push({ name, dtype, shape: [a.length], bytes: bytesOf(a) });
  }
  const sealed = { ...metadata, [SEAL]: key ? "hmac-sha256" : "sha256" };
  const digest = contentDigest(content, sealed, key);
  return encodeSafetensors(data, {
    metadata: { ...sealed, [DIGEST]: digest },
    path: "<checkpoint>",
  });
}

/**
 * A checkpoint as bytes, sealed with `sealKey` (HMAC-SHA-256) or, without
 * one, a SHA-256.
 */
export function encodeCheckpoint(
  c: RunCheckpoint,
  sealKey: Uint8Array | null = null,
): Uint8Array {
  const t = c.trainer;
  return encode({
    params: t.state.params,
    m: t.state.m,
    v: t.state.v,
    losses: t.losses,
    grad_norms: t.gradNorms,
    first_embedding: c.firstEmbedding,
    traj_step: Int32Array.from(c.trajectory.step),
    traj_c: Int32Array.from(c.trajectory.C),
    traj_p: Int32Array.from(c.trajectory.P),
    traj_centroid_norm: Float64Array.from(c.trajectory.centroidNorm),
  }, {
    format: CHECKPOINT_FORMAT,
    key: c.key,
    step: String(t.step),
    host: JSON.stringify(t.host),
    first_split: JSON.stringify(c.firstSplit),
    first_escape: JSON.stringify(c.firstEscape),
    history_bytes: JSON.stringify(c.historyBytes),
    history_sha256: JSON.stringify(c.historySha256),
  }, sealKey);
}

/** A checkpoint that cannot be used. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/**
 * The key a checkpoint with metadata `meta` must be checked with (null: a
 * SHA-256), or a {@link CheckpointError} when its format or seal cannot be
 * trusted by a store sealing with `sealKey`.
 */
function checkingKey(
  meta: Record<string, string>,
  sealKey: Uint8Array | null,
): Uint8Array | null {
  if (meta.format === LEGACY_CHECKPOINT_FORMAT) {
    if (!sealKey) return null;
    throw new CheckpointError(
      `format ${LEGACY_CHECKPOINT_FORMAT}, written before checkpoints were sealed`,
    );
  }
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `format ${JSON.stringify(meta.format ?? null)}, not ${CHECKPOINT_FORMAT}`,
    );
  }
  if (meta[SEAL] === "hmac-sha256" && sealKey) return sealKey;
  if (meta[SEAL] === "sha256" && !sealKey) return null;
  throw new CheckpointError(
    meta[SEAL] === "sha256"
      ? "it is not sealed with this cache's key (a SHA-256 only: edited and re-digested?)"
      : meta[SEAL] === "hmac-sha256"
      ? "it is sealed with a key this store does not have"
      : `its seal ${JSON.stringify(meta[SEAL] ?? null)} is unknown`,
  );
}

/**
 * Parses checkpoint bytes and checks their format and seal: a checkpoint of
 * another format, or whose content does not match its seal, is a
 * {@link CheckpointError}.
 */
function verifiedFile(bytes: Uint8Array, sealKey: Uint8Array | null) {
  let f;
  try {
    f = parseSafetensors(bytes, { path: "<checkpoint>" });
  } catch (e) {
    throw new CheckpointError(`unreadable (${(e as Error).message})`);
  }
  const meta = f.metadata ?? {};
  const key = checkingKey(meta, sealKey);
  const digest = contentDigest(
    f.names().map((name) => ({
      name,
      dtype: f.tensor(name).dtype,
      shape: f.tensor(name).shape,
      bytes: f.tensorBytes(name),
    })),
    meta,
    key,
  );
  if (meta[DIGEST] !== digest) {
    throw new CheckpointError(
      key
        ? "its content does not match its seal (corrupted, or edited without this cache's key)"
        : "its content does not match its digest (corrupted or edited)",
    );
  }
  return { f, meta };
}

/** Options of {@link decodeCheckpoint}. */
export interface DecodeOptions {
  /** The key the store seals with (absent: a SHA-256 store). */
  readonly sealKey?: Uint8Array | null;
}

/** `text` parsed as JSON, or a {@link CheckpointError} naming `field`. */
function metaJson(meta: Record<string, string>, field: string): unknown {
  try {
    return JSON.parse(meta[field]);
  } catch (e) {
    throw new CheckpointError(
      `metadata ${field} is not JSON (${(e as Error).message})`,
    );
  }
}

/**
 * Decodes checkpoint bytes, checking their seal and that they belong to run
 * `key`; any problem is a {@link CheckpointError}.
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  key: string,
  options: DecodeOptions = {},
): RunCheckpoint {
  const { f, meta } = verifiedFile(bytes, options.sealKey ?? null);
  if (meta.key !== key) {
    throw new CheckpointError("it belongs to another run key");
  }
  const copy = (name: string) => {
    try {
      return f.tensorBytes(name).slice();
    } catch {
      throw new CheckpointError(`it has no tensor ${name}`);
    }
  };
  const f32 = (name: string) => new Float32Array(copy(name).buffer);
  const i32 = (name: string) => Array.from(new Int32Array(copy(name).buffer));
  const step = Number(meta.step);
  const losses = f32("losses");
  if (!Number.isSafeInteger(step) || losses.length !== step) {
    throw new CheckpointError("its step and losses disagree");
  }
  return {
    key,
    trainer: {
      step,
      state: { params: f32("params"), m: f32("m"), v: f32("v") },
      host: metaJson(meta, "host") as HostStreamsSnapshot,
      losses,
      gradNorms: f32("grad_norms"),
    },
    trajectory: {
      step: i32("traj_step"),
      C: i32("traj_c"),
      P: i32("traj_p"),
      centroidNorm: Array.from(
        new Float64Array(copy("traj_centroid_norm").buffer),
      ),
    },
    firstSplit: metaJson(meta, "first_split") as number | null,
    firstEscape: metaJson(meta, "first_escape") as number | null,
    firstEmbedding: f32("first_embedding"),
    historyBytes: metaJson(meta, "history_bytes") as number | null,
    historySha256: metaJson(meta, "history_sha256") as string | null,
  };
}

/**
 * The checkpoint file of run `key` under the cache: one per run, packed or
 * not, so `deno task run` resumes what a pool or an earlier run started.
 */
export function checkpointPath(key: string, cacheDir = CACHE_DIR): string {
  return `${cacheDir}/checkpoints/${key}.ckpt`;
}

/** The name of a checkpoint folder's seal key. */
export const SEAL_KEY_FILE = ".checkpoint-seal.key";

/** Bytes of a seal key. */
const SEAL_KEY_BYTES = 32;

/** A seal key file that cannot be used. */
export class SealKeyError extends CodedError<"bad-key"> {}

/**
 * The seal key in `path`, created (random, mode 0600) when there is none;
 * two processes creating it at once agree on one (`createWhole`).
 */
export async function sealKeyAt(path: string): Promise<Uint8Array> {
  for (;;) {
    const key = await readFileOrNull(path);
    if (key === null) {
      await Deno.mkdir(dirname(path), { recursive: true });
      const fresh = crypto.getRandomValues(new Uint8Array(SEAL_KEY_BYTES));
      if (await createWhole(path, fresh, { mode: 0o600 })) return fresh;
      continue; // another process created it first: read theirs
    }
    if (key.length !== SEAL_KEY_BYTES) {
      throw new SealKeyError(
        "bad-key",
        `the checkpoint key ${path} holds ${key.length} bytes, not ${SEAL_KEY_BYTES}: remove it to start a new one (its checkpoints will then be trained again)`,
      );
    }
    return key;
  }
}

/**
 * A checkpoint kept in one file (written atomically), sealed with the key in
 * `<its folder>/.checkpoint-seal.key` (or `keyFile`).
 */
export function fileCheckpointStore(
  path: string,
  keyFile: string = `${dirname(path)}/${SEAL_KEY_FILE}`,
): CheckpointStore {
  let key: Promise<Uint8Array> | undefined;
  return {
    name: path,
    sealKey() {
      key ??= sealKeyAt(keyFile);
      return key;
    },
    load() {
      return readFileOrNull(path);
    },
    async save(bytes) {
      await writeFileAtomic(path, bytes, { createDirs: true });
    },
    async clear() {
      await Deno.remove(path).catch(() => {});
    },
  };
}
