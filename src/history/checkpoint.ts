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
 * A checkpoint carries a SHA-256 over its own content (every tensor's name,
 * dtype, shape and bytes, and every metadata entry), checked before anything
 * in it is used: a flipped bit or an edited field makes it a
 * {@link CheckpointError}, never a silently different run.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { writeFileAtomic } from "../io/atomic.ts";
import {
  encodeSafetensors,
  parseSafetensors,
  type TensorData,
} from "../io/safetensors/mod.ts";
import type { TrainerCheckpoint } from "../runtime/trainer.ts";
import type { HostStreamsSnapshot } from "../step/host_streams.ts";
import type { TrajectoryRecord } from "../hypothesis/types.ts";
import { CACHE_DIR } from "./locations.ts";

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
}

/**
 * Format tag in a checkpoint's metadata. Version 2 added the content digest
 * and the history digest; a version-1 checkpoint is not resumed from.
 */
export const CHECKPOINT_FORMAT = "horizon-checkpoint/2";

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

/** The metadata key of the content digest. */
const DIGEST = "digest";

/**
 * SHA-256 over a checkpoint's content: the metadata (but the digest itself)
 * and each tensor's name, dtype, shape and bytes, in the order given.
 */
function contentDigest(
  tensors: readonly {
    name: string;
    dtype: string;
    shape: readonly number[];
    bytes: Uint8Array;
  }[],
  metadata: Record<string, string>,
): string {
  const hash = createHash("sha256");
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
 * Named 1-D arrays and string metadata as safetensors bytes, with the
 * content digest added to the metadata.
 */
function encode(
  tensors: Record<string, Data>,
  metadata: Record<string, string>,
): Uint8Array {
  const data: Record<string, TensorData> = {};
  for (const [name, a] of Object.entries(tensors)) {
    data[name] = { dtype: dtypeOf(a), shape: [a.length], data: a };
  }
  const digest = contentDigest(
    Object.entries(tensors).map(([name, a]) => ({
      name,
      dtype: dtypeOf(a),
      shape: [a.length],
      bytes: bytesOf(a),
    })),
    metadata,
  );
  return encodeSafetensors(data, {
    metadata: { ...metadata, [DIGEST]: digest },
    path: "<checkpoint>",
  });
}

/** A checkpoint as bytes. */
export function encodeCheckpoint(c: RunCheckpoint): Uint8Array {
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
  });
}

/** A checkpoint that cannot be used. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/**
 * Parses checkpoint bytes and checks their format and content digest: a
 * checkpoint of another format or whose content does not match its digest
 * is a {@link CheckpointError}.
 */
function verifiedFile(bytes: Uint8Array) {
  let f;
  try {
    f = parseSafetensors(bytes, { path: "<checkpoint>" });
  } catch (e) {
    throw new CheckpointError(`unreadable (${(e as Error).message})`);
  }
  const meta = f.metadata ?? {};
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `format ${JSON.stringify(meta.format ?? null)}, not ${CHECKPOINT_FORMAT}`,
    );
  }
  const digest = contentDigest(
    f.names().map((name) => ({
      name,
      dtype: f.tensor(name).dtype,
      shape: f.tensor(name).shape,
      bytes: f.tensorBytes(name),
    })),
    meta,
  );
  if (meta[DIGEST] !== digest) {
    throw new CheckpointError(
      "its content does not match its digest (corrupted or edited)",
    );
  }
  return { f, meta };
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
 * Decodes checkpoint bytes, checking their digest and that they belong to
 * run `key`; any problem is a {@link CheckpointError}.
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  key: string,
): RunCheckpoint {
  const { f, meta } = verifiedFile(bytes);
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

/** A checkpoint kept in one file (written atomically). */
export function fileCheckpointStore(path: string): CheckpointStore {
  return {
    name: path,
    async load() {
      try {
        return await Deno.readFile(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return null;
        throw e;
      }
    },
    async save(bytes) {
      await writeFileAtomic(path, bytes, { createDirs: true });
    },
    async clear() {
      await Deno.remove(path).catch(() => {});
    },
  };
}
