/**
 * The run queue: {@link submitRuns} queues runs (one BullMQ job per run
 * key; a pack's runs side by side) and collects their records;
 * {@link startWorker} trains them, a pack's runs together, with checkpoints
 * in Redis so a run whose worker died resumes elsewhere. Both report what
 * happens to a run as its `RunEvent`s (`../events.ts`), like every
 * executor, and what happens to jobs and connections as {@link QueueEvent}s.
 *
 * @module
 */

export {
  connectionOptions,
  DEFAULT_REDIS_PORT,
  maskUrl,
  parseRedisUrl,
  QueueSecret,
  RedisAccessError,
  RedisConnectError,
  type RedisTarget,
  RedisUrlError,
} from "./connection.ts";
export { checkRedis } from "./check.ts";
export {
  QUEUE_CA_ENV,
  QUEUE_PASSWORD_ENV,
  QUEUE_URL_ENV,
  type QueueFlags,
  resolveQueueTarget,
} from "./access.ts";
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
  jobEnd,
  type JobReturn,
  QUEUE_NAME,
  specLabel,
} from "./jobs.ts";
export type { QueueEvent } from "./queue_events.ts";
export {
  KEEP_RESULTS_SECONDS,
  type SubmitOptions,
  submitRuns,
} from "./submit.ts";
export {
  type QueueWorker,
  startWorker,
  type WorkerJob,
  type WorkerOptions,
} from "./worker.ts";
