/**
 * One process trains a run at a time: a lock file per run key under the
 * cache (`<cache>/locks/<key>.lock`). Two processes training the same run
 * would share its checkpoint, partial history and record file, and the
 * loser would end on a missing file after training everything for nothing;
 * with the lock, the second waits and then takes the first one's record
 * from the cache (or resumes its checkpoint, should the first have been
 * stopped or killed).
 *
 * The lock file is created whole or not at all (`io/create_whole.ts`: a
 * temporary file hard-linked to the lock's name, which fails when it exists) and
 * holds who holds it: pid, host, start time and, on Linux, the process's
 * start tick, so a pid reused by another process is not mistaken for the
 * holder. A lock is stale when its holder is on this host and no longer
 * runs (killed with `kill -9`, crashed); a stale lock is removed by one
 * process at a time (under `<lock>.break`) and only while it is still the
 * stale one, so a fresh lock is never removed by mistake. A lock held on
 * another host (a cache shared over the network) cannot be checked: it is
 * waited for, and the wait says which file to remove if that host's process
 * is gone.
 *
 * Like bullmq's lock manager, callers see a narrow surface: try to take a
 * lock ({@linkcode tryLockRun}), wait for one ({@linkcode lockRun}), release
 * it ({@linkcode RunLock.release}).
 *
 * @module
 */

import { dirname } from "node:path";
import process from "node:process";
import { CACHE_DIR } from "./locations.ts";
import { createWhole } from "../io/create_whole.ts";
import { readTextFileOrNull } from "../io/read_or_null.ts";

/** Who holds a run lock, as its file says. */
export interface LockHolder {
  /** The holding process. */
  readonly pid: number;
  /** Its host (`Deno.hostname()`). */
  readonly host: string;
  /** When it took the lock (ISO 8601). */
  readonly startedAt: string;
  /**
   * The process's start tick (Linux `/proc/<pid>/stat` field 22), telling a
   * reused pid apart; null where the system has no /proc.
   */
  readonly processStart: string | null;
}

/** A lock this process holds. */
export interface RunLock {
  /** The lock file. */
  readonly path: string;
  /**
   * Releases the lock (removes its file while it is still ours); idempotent,
   * never throws.
   */
  release(): Promise<void>;
}

/** What {@linkcode tryLockRun} got: the lock, or who holds it. */
export type LockAttempt =
  | { readonly lock: RunLock }
  | { readonly holder: LockHolder };

/**
 * The lock file of run `key` under the cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runLockPath } from "./run_lock.ts";
 * assert.equal(runLockPath("ab12", "/cache"), "/cache/locks/ab12.lock");
 * ```
 */
export function runLockPath(key: string, cacheDir: string = CACHE_DIR): string {
  return `${cacheDir}/locks/${key}.lock`;
}

/** Field 22 (start time in clock ticks) and the state of a /proc stat line. */
function parseStat(stat: string): { state: string; start: string } {
  // The command name (field 2) is in parentheses and may hold spaces.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0], start: rest[19] };
}

/** This process's start tick, or null without /proc. */
function ownProcessStart(): string | null {
  if (Deno.build.os !== "linux") return null;
  try {
    return parseStat(Deno.readTextFileSync("/proc/self/stat")).start;
  } catch {
    return null;
  }
}

/** The holder this process writes into a lock file. */
function self(): LockHolder {
  return {
    pid: Deno.pid,
    host: Deno.hostname(),
    startedAt: new Date().toISOString(),
    processStart: ownProcessStart(),
  };
}

/**
 * Whether `holder` is gone: on this host, its pid no longer runs, is a
 * zombie, or is another process (a different start tick). A holder on
 * another host is never called gone (it cannot be checked from here).
 */
export function holderGone(holder: LockHolder): boolean {
  if (holder.host !== Deno.hostname()) return false;
  if (Deno.build.os === "linux") {
    try {
      const { state, start } = parseStat(
        Deno.readTextFileSync(`/proc/${holder.pid}/stat`),
      );
      return state === "Z" ||
        (holder.processStart !== null && start !== holder.processStart);
    } catch {
      return true;
    }
  }
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as { code?: string }).code === "ESRCH";
  }
}

/** The holder a lock file's text names, or null when it names none. */
function parseHolder(text: string): LockHolder | null {
  try {
    const h = JSON.parse(text);
    if (
      Number.isSafeInteger(h?.pid) && typeof h.host === "string" &&
      typeof h.startedAt === "string" &&
      (h.processStart === null || typeof h.processStart === "string")
    ) {
      return h;
    }
  } catch {
    // Not JSON: named by no one, so stale (the file is only ever linked
    // into place whole).
  }
  return null;
}

/**
 * Removes the lock at `path` if it still holds `staleText`, under the
 * breaker file `<path>.break` so that no two processes break it at once (one
 * could otherwise remove the fresh lock the other just took). A breaker left
 * by a process that died is itself removed.
 */
export async function breakStale(
  path: string,
  staleText: string,
): Promise<void> {
  const breaker = `${path}.break`;
  if (!await createWhole(breaker, JSON.stringify(self()))) {
    const text = await readTextFileOrNull(breaker);
    const holder = text === null ? null : parseHolder(text);
    if (text !== null && (holder === null || holderGone(holder))) {
      // Only a dead breaker's file: the live one removes its own.
      if (await readTextFileOrNull(breaker) === text) {
        await Deno.remove(breaker).catch(() => {});
      }
    }
    return;
  }
  try {
    if (await readTextFileOrNull(path) === staleText) await Deno.remove(path);
  } finally {
    await Deno.remove(breaker).catch(() => {});
  }
}

/** The lock at `path`, held with `text`. */
function heldLock(path: string, text: string): RunLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      // A lock broken as stale by mistake is someone else's now: keep it.
      // Never throws: a lock left behind names this process, stale once it
      // ends.
      try {
        if (await readTextFileOrNull(path) === text) await Deno.remove(path);
      } catch {
        // Gone meanwhile, or the cache became unwritable.
      }
    },
  };
}

/**
 * Takes the lock at `path` when it is free or stale; else says who holds it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tryLockRun } from "./run_lock.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const first = await tryLockRun(`${dir}/k.lock`);
 *   assert.ok("lock" in first);
 *   const second = await tryLockRun(`${dir}/k.lock`);
 *   assert.ok("holder" in second && second.holder.pid === Deno.pid);
 *   await first.lock.release();
 *   assert.ok("lock" in await tryLockRun(`${dir}/k.lock`));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function tryLockRun(path: string): Promise<LockAttempt> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const text = JSON.stringify(self()) + "\n";
  for (let tries = 0;; tries++) {
    if (tries === 1000) {
      throw new Error(`cannot take or break the run lock ${path}`);
    }
    if (await createWhole(path, text)) return { lock: heldLock(path, text) };
    const found = await readTextFileOrNull(path);
    if (found === null) continue; // released meanwhile
    const holder = parseHolder(found);
    if (holder !== null && !holderGone(holder)) return { holder };
    await breakStale(path, found);
    // Let a breaker that is not us finish before trying again.
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Options of {@linkcode lockRun}. */
export interface LockWaitOptions {
  /** Stops waiting: {@linkcode lockRun} throws the signal's reason. */
  readonly signal?: AbortSignal;
  /** Between checks of a held lock (default 1000 ms). */
  readonly pollMs?: number;
  /** Told each new holder waited for. */
  readonly onWait?: (holder: LockHolder) => void;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/**
 * Takes the lock at `path`, waiting while another live process holds it
 * (telling `onWait` each holder once). A holder that dies, `kill -9`
 * included, leaves a stale lock, which is taken over.
 */
export async function lockRun(
  path: string,
  options: LockWaitOptions = {},
): Promise<RunLock> {
  let told: string | null = null;
  for (;;) {
    options.signal?.throwIfAborted();
    const attempt = await tryLockRun(path);
    if ("lock" in attempt) return attempt.lock;
    const who = JSON.stringify(attempt.holder);
    if (who !== told) {
      told = who;
      options.onWait?.(attempt.holder);
    }
    await pause(options.pollMs ?? 1000, options.signal);
  }
}

/**
 * The line that says a run waits for `holder` (at `path`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitingLine } from "./run_lock.ts";
 * const holder = {
 *   pid: 41, host: Deno.hostname(), startedAt: "2026-01-02T03:04:05.000Z", processStart: null,
 * };
 * assert.equal(
 *   waitingLine(holder, "/c/locks/k.lock"),
 *   "waiting for the same run in process 41 (since 2026-01-02T03:04:05.000Z)",
 * );
 * ```
 */
export function waitingLine(holder: LockHolder, path: string): string {
  const elsewhere = holder.host !== Deno.hostname();
  return `waiting for the same run in process ${holder.pid}${
    elsewhere ? ` on ${holder.host}` : ""
  } (since ${holder.startedAt})${
    elsewhere
      ? `; this host cannot tell whether it still runs: if it is gone, remove ${path}`
      : ""
  }`;
}
