/**
 * Run checkpoints: everything needed to continue an interrupted run so that
 * it ends bit-identical to an uninterrupted one — the resident state
 * (parameters and both AdamW moments), the host streams' position, the
 * losses so far, and the analysis state (trajectory, first split/escape, the
 * step-0 embedding, how much history was written). Stored as safetensors
 * bytes (about 1.5 MB for the seeds' model), in a file for local runs or a
 * Redis key for queue workers (see {@link CheckpointStore}).
 *
 * @module
 */

import { writeFileAtomic } from "../io/atomic.ts";
import {
  encodeSafetensors,
  parseSafetensors,
  type TensorData,
} from "../io/safetensors/mod.ts";
import type { TrainerCheckpoint } from "../runtime/trainer.ts";
import type { HostStreamsSnapshot } from "../step/host_streams.ts";
import type { TrajectoryRecord } from "../hypothesis/types.ts";

/** Format tag in a checkpoint's metadata. */
/** Where a run's checkpoints are kept (a file, a Redis key, ...). */
export interface CheckpointStore {
  /** The latest checkpoint's bytes, or null. */
  load(): Promise<Uint8Array | null>;
  /** Replaces the checkpoint (must be atomic: a reader sees old or new). */
  save(bytes: Uint8Array): Promise<void>;
  /** Removes it (the run completed). */
  clear(): Promise<void>;
}

export const CHECKPOINT_FORMAT = "horizon-checkpoint/1";

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
}

type Data = Float32Array | Float64Array | Int32Array;

function dtypeOf(a: Data): "F32" | "F64" | "I32" {
  return a instanceof Float32Array
    ? "F32"
    : a instanceof Float64Array
    ? "F64"
    : "I32";
}

/** Named 1-D arrays and string metadata as safetensors bytes. */
function encode(
  tensors: Record<string, Data>,
  metadata: Record<string, string>,
): Uint8Array {
  const data: Record<string, TensorData> = {};
  for (const [name, a] of Object.entries(tensors)) {
    data[name] = { dtype: dtypeOf(a), shape: [a.length], data: a };
  }
  return encodeSafetensors(data, { metadata, path: "<checkpoint>" });
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
  });
}

/** A checkpoint that cannot be used. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** Decodes checkpoint bytes, checking they belong to run `key`. */
export function decodeCheckpoint(
  bytes: Uint8Array,
  key: string,
): RunCheckpoint {
  let f;
  try {
    f = parseSafetensors(bytes, { path: "<checkpoint>" });
  } catch (e) {
    throw new CheckpointError(`unreadable checkpoint: ${(e as Error).message}`);
  }
  const meta = f.metadata ?? {};
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`not a ${CHECKPOINT_FORMAT} checkpoint`);
  }
  if (meta.key !== key) {
    throw new CheckpointError("the checkpoint belongs to another run key");
  }
  const copy = (name: string) => f.tensorBytes(name).slice();
  const f32 = (name: string) => new Float32Array(copy(name).buffer);
  const i32 = (name: string) => Array.from(new Int32Array(copy(name).buffer));
  const step = Number(meta.step);
  const losses = f32("losses");
  if (!Number.isSafeInteger(step) || losses.length !== step) {
    throw new CheckpointError("checkpoint step and losses disagree");
  }
  return {
    key,
    trainer: {
      step,
      state: { params: f32("params"), m: f32("m"), v: f32("v") },
      host: JSON.parse(meta.host) as HostStreamsSnapshot,
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
    firstSplit: JSON.parse(meta.first_split),
    firstEscape: JSON.parse(meta.first_escape),
    firstEmbedding: f32("first_embedding"),
    historyBytes: JSON.parse(meta.history_bytes),
  };
}

/** A checkpoint kept in one file (written atomically). */
export function fileCheckpointStore(path: string): CheckpointStore {
  return {
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
