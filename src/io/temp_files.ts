/**
 * Temporary files that do not outlive their writer. Atomic writers put data
 * in `<dir>/.<name>.<pid>.<random>.tmp` and rename it into place; while a
 * temporary file exists it is tracked here, so that
 *
 * - a CLI that called {@linkcode installTempCleanup} removes them when it is
 *   interrupted (SIGINT, SIGTERM) or exits through `Deno.exit` / the end of
 *   its event loop (the `unload` event);
 * - whatever a `kill -9` or a crash left behind is recognised later by the
 *   PID in its name and removed by {@linkcode sweepStaleTemps} once that
 *   process is gone.
 *
 * Library code only tracks; signal handling is installed by CLIs (tests and
 * library users keep Deno's default behaviour).
 *
 * @module
 */

const tracked = new Set<string>();

/**
 * A fresh temporary path next to `target` (same directory, so the final
 * rename cannot cross file systems): `<dir>/.<base>.<pid>.<8 hex>.tmp`.
 * The file is not created.
 *
 * @example
 * ```ts
 * import { tempPathFor } from "./temp_files.ts";
 * tempPathFor("out/run.json"); // e.g. "out/.run.json.4242.1f2e3d4c.tmp"
 * ```
 */
export function tempPathFor(target: string): string {
  const slash = target.lastIndexOf("/");
  const dir = slash >= 0 ? target.slice(0, slash + 1) : "";
  const base = target.slice(slash + 1);
  const random = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
  return `${dir}.${base}.${Deno.pid}.${random}.tmp`;
}

/** Name of a temporary file written by {@linkcode tempPathFor}: group 1 is the PID. */
const OURS = /^\..*\.([0-9]+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Registers `path` (a temporary file this process is writing) for removal
 * on interruption or exit. Call it before creating the file.
 */
export function trackTemp(path: string): void {
  tracked.add(path);
}

/** Forgets `path` (after it was renamed into place or removed). */
export function untrackTemp(path: string): void {
  tracked.delete(path);
}

/** The temporary files currently tracked, in registration order. */
export function trackedTemps(): string[] {
  return [...tracked];
}

/**
 * Removes every tracked temporary file now, synchronously (so it can run in
 * a signal or `unload` handler right before the process ends), and forgets
 * them. Files already gone are ignored. Returns the paths it removed.
 */
export function removeTrackedTemps(): string[] {
  const removed: string[] = [];
  for (const path of tracked) {
    try {
      Deno.removeSync(path);
      removed.push(path);
    } catch {
      // Already renamed into place, removed, or never created.
    }
  }
  tracked.clear();
  return removed;
}

/** The signals {@linkcode installTempCleanup} handles, with their exit codes. */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;

/** A signal {@linkcode installTempCleanup} handles. */
export type StopSignalName = keyof typeof STOP_SIGNALS;

/** Options of {@linkcode installTempCleanup}. */
export interface TempCleanupOptions {
  /**
   * Called on each SIGINT or SIGTERM before anything else happens. Return
   * true to keep running (the program has been told to stop and will end by
   * itself, e.g. through an AbortController), false to remove the tracked
   * files and exit at once with 130 (SIGINT) or 143 (SIGTERM). Without it
   * every signal exits at once. A later call's handler replaces an earlier
   * one. `lifeline.ts`'s `stopSignal()` uses this to turn the first signal
   * into an abort and the second into an immediate exit.
   */
  onSignal?: (signal: StopSignalName) => boolean;
}

let installed = false;
let onSignal: ((signal: StopSignalName) => boolean) | undefined;

/**
 * Removes the tracked temporary files and ends the process with `code`
 * (130 after SIGINT, 143 after SIGTERM by convention).
 */
export function exitNow(code: number): never {
  removeTrackedTemps();
  Deno.exit(code);
}

/**
 * Installs, once per process, the cleanup of tracked temporary files:
 * on SIGINT/SIGTERM (not on Windows) they are removed and the process exits
 * with 130/143, unless `onSignal` says otherwise (see
 * {@linkcode TempCleanupOptions}); on `unload` (the end of the event loop,
 * or `Deno.exit` anywhere) they are removed too. Calling it again only
 * replaces `onSignal` when one is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Signal handling is process-wide: shown in a child process, killed while
 * // it writes a tracked temporary file.
 * const dir = await Deno.makeTempDir();
 * try {
 *   const tempFiles = new URL("./temp_files.ts", import.meta.url);
 *   const child = await new Deno.Command(Deno.execPath(), {
 *     args: ["eval", `
 *       import { installTempCleanup, trackTemp } from "${tempFiles}";
 *       installTempCleanup(); // first thing in a CLI's main
 *       trackTemp("${dir}/.out.tmp");
 *       Deno.writeTextFileSync("${dir}/.out.tmp", "half written");
 *       Deno.kill(Deno.pid, "SIGTERM");
 *       setTimeout(() => {}, 10_000);
 *     `],
 *   }).output();
 *   assert.equal(child.code, 143);
 *   assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function installTempCleanup(options: TempCleanupOptions = {}): void {
  if (options.onSignal) onSignal = options.onSignal;
  if (installed) return;
  installed = true;
  globalThis.addEventListener("unload", () => removeTrackedTemps());
  if (Deno.build.os === "windows") return;
  for (const name of Object.keys(STOP_SIGNALS) as StopSignalName[]) {
    Deno.addSignalListener(name, () => {
      if (onSignal?.(name)) return;
      exitNow(STOP_SIGNALS[name]);
    });
  }
}

/** Whether process `pid` exists, when this system can tell (Linux /proc). */
function processAlive(pid: number): boolean | undefined {
  if (pid === Deno.pid) return true;
  if (Deno.build.os !== "linux") return undefined;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // A zombie has ended; only its exit status waits to be collected.
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Options of {@linkcode sweepStaleTemps}. */
export interface SweepOptions {
  /**
   * `.tmp` files whose writer cannot be told from the name (another naming
   * scheme, or a system without /proc) are removed once older than this
   * (default: 24 hours).
   */
  maxAgeMs?: number;
}

/**
 * Removes the temporary files in `dir` (not its subdirectories) that were
 * left by processes that no longer exist: `.<name>.<pid>.<hex>.tmp` files
 * whose PID is not a running process (Linux), and other `*.tmp` files not
 * modified for `maxAgeMs`. Files of live processes are kept. A missing `dir`
 * is fine, and files that cannot be removed are skipped. Returns the names
 * removed, sorted.
 */
export async function sweepStaleTemps(
  dir: string,
  options: SweepOptions = {},
): Promise<string[]> {
  const maxAgeMs = options.maxAgeMs ?? 24 * 60 * 60 * 1000;
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return removed;
    throw e;
  }
  const now = Date.now();
  for (const e of entries) {
    if (!e.isFile || !e.name.endsWith(".tmp")) continue;
    const path = `${dir}/${e.name}`;
    const pid = OURS.exec(e.name)?.[1];
    let stale = pid !== undefined ? processAlive(Number(pid)) === false : false;
    if (
      !stale && (pid === undefined || processAlive(Number(pid)) === undefined)
    ) {
      try {
        const mtime = (await Deno.lstat(path)).mtime?.getTime();
        stale = mtime !== undefined && now - mtime > maxAgeMs;
      } catch {
        continue; // gone meanwhile
      }
    }
    if (!stale) continue;
    try {
      await Deno.remove(path);
      removed.push(e.name);
    } catch {
      // Gone meanwhile, or not ours to remove: housekeeping never fails.
    }
  }
  return removed.sort();
}
