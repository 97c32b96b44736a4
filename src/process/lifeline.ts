/**
 * When a CLI should stop: on SIGINT or SIGTERM, and when the process that
 * started it is gone. The npm `deno` shim (`node_modules/.bin/deno`, a node
 * script that `spawnSync`s the real binary) and `deno task` put processes
 * between the user and the trainer; `kill -9` on the PID the user sees ends
 * only the shim, and the trainer would keep running and writing. So on Linux
 * the chain of `deno`/`node` processes above this one is remembered at start
 * and polled; when one of them ends, the stop signal aborts.
 *
 * @module
 */

import { exitNow, installTempCleanup, STOP_SIGNALS } from "../io/temp_files.ts";

/** A process above this one. */
export interface Ancestor {
  readonly pid: number;
  /** Its command name (`/proc/<pid>/stat` field 2): "deno" or "node". */
  readonly comm: string;
  /** Its start time in clock ticks after boot (field 22): tells PID reuse apart. */
  readonly startTime: string;
}

interface ProcStat {
  comm: string;
  state: string;
  ppid: number;
  startTime: string;
}

function readStat(pid: number | "self"): ProcStat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain ") ".
  const open = text.indexOf("("), close = text.lastIndexOf(")");
  const rest = text.slice(close + 2).split(" "); // from field 3 (state) on
  return {
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid: Number(rest[1]),
    startTime: rest[19],
  };
}

const LAUNCHERS = /^(deno|node|nodejs)$/;

/**
 * The unbroken chain of `deno`/`node` processes above this one, nearest
 * first: e.g. the `deno task` runner, then the npm shim's node. Stops at
 * the first other process (a shell, an editor, init). Empty off Linux.
 */
export function ancestorChain(): Ancestor[] {
  const chain: Ancestor[] = [];
  if (Deno.build.os !== "linux") return chain;
  let pid = readStat("self")?.ppid ?? 0;
  while (pid > 1 && chain.length < 64) {
    const st = readStat(pid);
    if (!st || !LAUNCHERS.test(st.comm) || st.state === "Z") break;
    chain.push({ pid, comm: st.comm, startTime: st.startTime });
    pid = st.ppid;
  }
  return chain;
}

/** Whether `a` is still running: same PID, same start time, not a zombie. */
function stillRunning(a: Ancestor): boolean {
  const st = readStat(a.pid);
  return st !== undefined && st.startTime === a.startTime && st.state !== "Z";
}

/** Options of {@linkcode stopSignal}; only the first call's count. */
export interface StopSignalOptions {
  /** How often the ancestors are checked (default 500 ms). */
  pollMs?: number;
  /**
   * After the signal aborts, the process exits anyway (tracked temporary
   * files removed) if still running this much later: 130 after SIGINT, 143
   * after SIGTERM, 129 after a parent ended (default 30 s; `Infinity`
   * waits forever). The timer does not keep the process alive.
   */
  forceExitMs?: number;
}

/** Exit code when the stop came from a parent process ending (like SIGHUP). */
export const PARENT_ENDED_EXIT_CODE = 129;

let controller: AbortController | undefined;
let stopped: StopState | undefined;

/** Why and how the process is stopping, once {@linkcode stopSignal} aborted. */
export interface StopState {
  /** The abort reason: "SIGINT", "SIGTERM" or "parent process N (comm) ended". */
  readonly reason: string;
  /** The exit code that fits: 130 (SIGINT), 143 (SIGTERM), 129 (parent ended). */
  readonly exitCode: number;
}

/**
 * The stop in progress, or undefined while {@linkcode stopSignal} has not
 * aborted (or was never called). `runCli` uses it to report an error thrown
 * during a stop as `stopped: <reason>` with the matching exit code.
 */
export function stopState(): StopState | undefined {
  return stopped;
}

/**
 * The exit code of a command that stopped early: the one that fits the stop
 * (143 after SIGTERM, as README says, 129 after a parent ended), 130 after
 * SIGINT or when no stop was seen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stoppedExitCode } from "./lifeline.ts";
 * assert.equal(stoppedExitCode(), 130); // nothing stopped this process
 * ```
 */
export function stoppedExitCode(): number {
  return stopped?.exitCode ?? 130;
}

/**
 * The process-wide stop signal: an AbortSignal that aborts, with a reason
 * string, on the first of
 *
 * - SIGINT → reason `"SIGINT"`; SIGTERM → `"SIGTERM"`;
 * - (Linux) the end of a `deno`/`node` process in the chain above this one
 *   → `"parent process 1234 (node) ended"`.
 *
 * Once aborted, a further SIGINT/SIGTERM removes the tracked temporary files
 * (`temp_files.ts`) and exits at once (130/143), and after `forceExitMs` the
 * process exits regardless. Also installs the temporary-file cleanup on
 * `unload`. Idempotent: every call returns the same signal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The signal is process-wide: shown in a child process that stops itself.
 * const lifeline = new URL("./lifeline.ts", import.meta.url);
 * const child = await new Deno.Command(Deno.execPath(), {
 *   args: ["eval", `
 *     import { stopSignal } from "${lifeline}";
 *     const signal = stopSignal();
 *     let step = 0;
 *     for (; step < 1000 && !signal.aborted; step++) {
 *       if (step === 3) Deno.kill(Deno.pid, "SIGTERM");
 *       await new Promise((tick) => setTimeout(tick, 10)); // a training step
 *     }
 *     if (signal.aborted) console.log(\`stopped: \${signal.reason}\`);
 *   `],
 *   stdout: "piped",
 * }).output();
 * assert.equal(new TextDecoder().decode(child.stdout), "stopped: SIGTERM\n");
 * ```
 */
export function stopSignal(options: StopSignalOptions = {}): AbortSignal {
  if (controller) return controller.signal;
  const c = controller = new AbortController();
  const forceExitMs = options.forceExitMs ?? 30_000;
  const stop = (reason: string, code: number) => {
    stopped = { reason, exitCode: code };
    c.abort(reason);
    if (Number.isFinite(forceExitMs)) {
      Deno.unrefTimer(setTimeout(() => exitNow(code), forceExitMs));
    }
  };
  installTempCleanup({
    onSignal: (name) => {
      if (c.signal.aborted) return false; // the second time: exit now
      stop(name, STOP_SIGNALS[name]);
      return true;
    },
  });
  const chain = ancestorChain();
  if (chain.length > 0) {
    const timer = setInterval(() => {
      if (c.signal.aborted) {
        clearInterval(timer);
        return;
      }
      const gone = chain.find((a) => !stillRunning(a));
      if (gone) {
        clearInterval(timer);
        stop(
          `parent process ${gone.pid} (${gone.comm}) ended`,
          PARENT_ENDED_EXIT_CODE,
        );
      }
    }, options.pollMs ?? 500);
    Deno.unrefTimer(timer);
  }
  return c.signal;
}
