/**
 * Run checkpoints kept in Redis, so a run whose worker died resumes on any
 * other worker: one key per run (`horizon:ckpt:<run key>`), replaced with a
 * single SET (atomic: a reader sees the old or the new checkpoint, never a
 * mix), removed when the run completes, and expiring after a week should
 * the run never complete.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { RedisClient } from "bullmq";
import type { CheckpointStore } from "../../history/checkpoint.ts";

/** Prefix of the checkpoint keys. */
export const CHECKPOINT_PREFIX = "horizon:ckpt:";

/** A checkpoint left behind by a run that never completes expires after this. */
export const CHECKPOINT_TTL_SECONDS = 7 * 24 * 3600;

/** The Redis key of a run's checkpoint. */
export function checkpointKey(runKey: string): string {
  return CHECKPOINT_PREFIX + runKey;
}

/** The Redis commands a checkpoint store uses (any BullMQ client has them). */
export type CheckpointClient = Pick<RedisClient, "get" | "set" | "del">;

/**
 * The {@link CheckpointStore} of run `runKey` in Redis. The bytes are stored
 * base64-encoded (BullMQ's client interface carries strings; ~1/3 more bytes,
 * encoded natively in milliseconds).
 */
export function redisCheckpointStore(
  client: CheckpointClient,
  runKey: string,
  ttlSeconds = CHECKPOINT_TTL_SECONDS,
): CheckpointStore {
  const key = checkpointKey(runKey);
  return {
    async load() {
      const text = await client.get(key);
      if (text === null) return null;
      const buf = Buffer.from(text, "base64");
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
    async save(bytes) {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        .toString("base64");
      await client.set(key, text, { EX: ttlSeconds });
    },
    async clear() {
      await client.del(key);
    },
  };
}
