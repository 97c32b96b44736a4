/**
 * The run queue: {@link submitRuns} queues runs (one BullMQ job per run
 * key; a pack's runs side by side) and collects their records;
 * {@link startWorker} trains them, a pack's runs together, with checkpoints
 * in Redis so a run whose worker died resumes elsewhere.
 *
 * @module
 */

export {
  checkRedis,
  connectionOptions,
  DEFAULT_REDIS_PORT,
  parseRedisUrl,
  RedisConnectError,
  type RedisTarget,
  RedisUrlError,
} from "./connection.ts";
export {
  CHECKPOINT_PREFIX,
  CHECKPOINT_TTL_SECONDS,
  type CheckpointClient,
  checkpointKey,
  redisCheckpointStore,
} from "./checkpoints.ts";
export {
  asRunSpec,
  isDivergence,
  QUEUE_NAME,
  type RunFailure,
  type RunResult,
  type RunSuccess,
  specLabel,
} from "./jobs.ts";
export {
  KEEP_RESULTS_SECONDS,
  type SubmitEvent,
  type SubmitOptions,
  submitRuns,
} from "./submit.ts";
export {
  type QueueWorker,
  startWorker,
  type WorkerEvent,
  type WorkerOptions,
} from "./worker.ts";
