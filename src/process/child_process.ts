/**
 * A child process whose output is read line by line and which is stopped
 * politely: SIGTERM, a grace period, then SIGKILL, and only then is it
 * reported stopped (its exit awaited and every line delivered). The pool's
 * jobs, the queue's workers in tests and bench, and the private Redis server
 * all need exactly this; writing it once keeps the escalation and the
 * "already gone" races in one place.
 *
 * @example Start, read lines, stop
 * ```ts
 * import assert from "node:assert/strict";
 * import { startChild } from "./child_process.ts";
 *
 * const out: string[] = [];
 * const child = startChild("sh", {
 *   args: ["-c", "echo one; echo two"],
 *   onStdout: (line) => out.push(line),
 * });
 * const status = await child.done; // it exits by itself
 * assert.deepEqual(out, ["one", "two"]);
 * assert.equal(status.code, 0);
 * await child.stop(); // already ended: just its status again
 * ```
 *
 * @module
 */

/** Called with each line of a stream (without its "\n") and when it arrived. */
export type LineHandler = (line: string, at: number) => void;

/** How to start a child. */
export interface ChildOptions {
  /** Arguments after the command. */
  readonly args?: readonly string[];
  /** Environment added to this process's. */
  readonly env?: Record<string, string>;
  /** Working directory; this process's when absent. */
  readonly cwd?: string;
  /** Each stdout line; stdout is discarded when absent. */
  readonly onStdout?: LineHandler;
  /** Each stderr line; stderr is discarded when absent. */
  readonly onStderr?: LineHandler;
  /** How long `stop()` waits after SIGTERM before SIGKILL (default 10 s). */
  readonly graceMs?: number;
  /** Aborting it stops the child (as `stop()` does). */
  readonly signal?: AbortSignal;
}

/** How `stop()` ends a child. */
export interface StopOptions {
  /** The first signal (default SIGTERM); SIGKILL skips the grace period. */
  readonly signal?: Deno.Signal;
  /** Overrides the child's `graceMs` for this stop. */
  readonly graceMs?: number;
}

/** A started child process. */
export interface Child {
  /** Its process id. */
  readonly pid: number;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Its exit status, once every line of its output has been delivered. */
  readonly done: Promise<Deno.CommandStatus>;
  /** Sends `signal` unless it has exited; never throws for a gone child. */
  kill(signal?: Deno.Signal): void;
  /**
   * Sends SIGTERM (or `options.signal`), waits up to the grace period,
   * sends SIGKILL if it is still running, and resolves with its status once
   * it has exited and its output is read. Calling it again, or after the
   * child ended by itself, just awaits the same end.
   */
  stop(options?: StopOptions): Promise<Deno.CommandStatus>;
  /** `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The lines of a byte stream as they arrive, without their "\n"; a last line
 * without one is yielded too.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + text).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest) yield rest;
}

async function deliver(
  stream: ReadableStream<Uint8Array>,
  onLine: LineHandler,
): Promise<void> {
  for await (const line of readLines(stream)) onLine(line, performance.now());
}

/**
 * Starts `command` (stdin closed). Throws `Deno.errors.NotFound` at once when
 * the command does not exist, as `Deno.Command.spawn` does.
 */
export function startChild(
  command: string | URL,
  options: ChildOptions = {},
): Child {
  const { onStdout, onStderr, signal } = options;
  const process = new Deno.Command(command, {
    args: [...(options.args ?? [])],
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: onStdout ? "piped" : "null",
    stderr: onStderr ? "piped" : "null",
  }).spawn();
  let exited = false;
  const status = process.status.then((s) => {
    exited = true;
    return s;
  });
  const reading = Promise.all([
    onStdout ? deliver(process.stdout, onStdout) : undefined,
    onStderr ? deliver(process.stderr, onStderr) : undefined,
  ]);
  const done = status.then(async (s) => {
    await reading;
    return s;
  });
  const kill = (sig: Deno.Signal = "SIGTERM") => {
    if (exited) return;
    try {
      process.kill(sig);
    } catch { /* gone between the check and the kill */ }
  };
  let stopping: Promise<Deno.CommandStatus> | undefined;
  const stop = (stopOptions: StopOptions = {}) => {
    stopping ??= (async () => {
      const first = stopOptions.signal ?? "SIGTERM";
      kill(first);
      const grace = stopOptions.graceMs ?? options.graceMs ?? 10_000;
      const timer = first === "SIGKILL"
        ? undefined
        : setTimeout(() => kill("SIGKILL"), grace);
      try {
        return await done;
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      }
    })();
    return stopping;
  };
  const onAbort = () => void stop();
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  // An abort listener must not outlive a child that ended by itself.
  const forget = () => signal?.removeEventListener("abort", onAbort);
  done.then(forget, forget);
  return {
    pid: process.pid,
    get exited() {
      return exited;
    },
    done,
    kill,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}
