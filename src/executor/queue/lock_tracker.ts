/**
 * Keeps the locks of the jobs a worker holds beyond the one BullMQ gave it:
 * the pack mates it took itself, whose locks BullMQ does not renew. One
 * tracker per worker, one timer for all its jobs (after BullMQ's own
 * `LockManager`): the worker tells it when it takes a job and when it lets
 * go of one; every half lock duration the tracker extends the locks of the
 * jobs it still holds, and tells the worker of a lock another worker holds
 * now.
 *
 * @module
 */

/** A held job: what renewing its lock needs (a BullMQ `Job` has it). */
export interface LockedJob {
  /**
   * Extends the lock held with `token` by `ms`; resolves to 0 when the lock
   * is no longer this token's.
   */
  extendLock(token: string, ms: number): Promise<number>;
}

/** Options of {@link LockTracker}. */
export interface LockTrackerOptions {
  /** How long a lock lasts without renewal (ms); renewed every half of it. */
  readonly lockMs: number;
  /** A job's lock is another worker's now: stop working on it. */
  readonly onLost: (jobId: string) => void;
  /** Renewing a job's lock failed (Redis): the next renewal tells more. */
  readonly onError?: (jobId: string, error: unknown) => void;
  /**
   * Calls `tick` every `ms` until the returned function is called (default
   * `setInterval`; tests pass a fake clock).
   */
  readonly every?: (tick: () => void, ms: number) => () => void;
}

const intervals = (tick: () => void, ms: number) => {
  const id = setInterval(tick, ms);
  return () => clearInterval(id);
};

/** The jobs a worker holds and renews the locks of (see module doc). */
export class LockTracker {
  readonly #held = new Map<string, { job: LockedJob; token: string }>();
  readonly #options: LockTrackerOptions;
  #cancel: (() => void) | undefined;

  /** A tracker holding nothing; its timer runs while it holds a job. */
  constructor(options: LockTrackerOptions) {
    this.#options = options;
  }

  /** Starts renewing `job`'s lock, held with `token`. */
  track(jobId: string, job: LockedJob, token: string): void {
    this.#held.set(jobId, { job, token });
    this.#cancel ??= (this.#options.every ?? intervals)(
      () => void this.renew(),
      this.#options.lockMs / 2,
    );
  }

  /** Stops renewing `jobId`'s lock (settled, released or lost). */
  untrack(jobId: string): void {
    this.#held.delete(jobId);
    if (this.#held.size === 0) this.close();
  }

  /** The ids of the jobs held. */
  get held(): string[] {
    return [...this.#held.keys()];
  }

  /**
   * Extends every held job's lock once (the timer calls this); a lock that
   * is another worker's now stops being tracked and is reported lost.
   */
  async renew(): Promise<void> {
    const { lockMs, onLost, onError } = this.#options;
    await Promise.all(
      [...this.#held].map(async ([jobId, { job, token }]) => {
        let ok: number;
        try {
          ok = await job.extendLock(token, lockMs);
        } catch (e) {
          // A Redis error is not a loss: the next renewal tells.
          onError?.(jobId, e);
          return;
        }
        if (ok || !this.#held.has(jobId)) return;
        this.untrack(jobId);
        onLost(jobId);
      }),
    );
  }

  /** Stops the timer (tracking a job again restarts it). */
  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
