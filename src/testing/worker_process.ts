/**
 * A real queue worker (`deno run -A src/cli/worker.ts --queue <url>`) as a
 * child process, with every line it printed and when that line arrived. The
 * queue's end-to-end test and the runs benchmark both start workers this way:
 * they wait for a worker to be ready, read its run lines (`start`, `note`,
 * `done`, ...: one per run event, see `describeRunEvent` in the CLI) and
 * stop it.
 *
 * @example Start a worker on a private Redis and stop it
 * ```ts ignore
 * import { startRedisServer } from "../executor/queue/redis_server.ts";
 * import { WorkerProcess } from "./worker_process.ts";
 *
 * await using server = await startRedisServer();
 * const worker = new WorkerProcess(server.url, { args: ["--threads", "1"] });
 * await worker.ready(60_000);
 * await worker.stop(); // SIGTERM: an idle worker exits with 143
 * ```
 *
 * @module
 */

import { type Child, startChild } from "../process/child_process.ts";

const WORKER_CLI = new URL("../cli/worker.ts", import.meta.url).pathname;

/** A line a worker printed and when it arrived (`performance.now()`). */
export interface WorkerLine {
  /** When it arrived through the stdout pipe. */
  readonly at: number;
  /** The line, without its "\n". */
  readonly text: string;
}

/** How to start a {@linkcode WorkerProcess}. */
export interface WorkerProcessOptions {
  /** Worker CLI arguments after `--queue <url>` (`--threads 1`, ...). */
  readonly args?: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A `deno task worker` process and the lines it printed so far. */
export class WorkerProcess {
  /** The process. */
  readonly child: Child;
  /** Its stdout lines, in order. */
  readonly lines: WorkerLine[] = [];
  /** Its stderr lines, in order. */
  readonly stderr: string[] = [];

  /** Starts a worker of the queue at `url` (a `redis://` URL). */
  constructor(url: string, options: WorkerProcessOptions = {}) {
    this.child = startChild(Deno.execPath(), {
      args: ["run", "-A", WORKER_CLI, "--queue", url, ...options.args ?? []],
      env: { NO_COLOR: "1" },
      onStdout: (text, at) => this.lines.push({ at, text }),
      onStderr: (text) => this.stderr.push(text),
      // An idle worker exits at once on SIGTERM; one mid-run gets 30 s.
      graceMs: 30_000,
    });
  }

  /** Waits for the worker's "waiting for runs" line. */
  async ready(timeoutMs: number): Promise<void> {
    if (await this.#first(/waiting for runs/, timeoutMs) !== undefined) return;
    throw new Error(
      `queue worker ${this.child.pid} did not start: ${
        this.stderr.filter((l) => l.trim()).at(-1) ??
          (this.child.exited ? "it exited" : `no ready line in ${timeoutMs} ms`)
      }`,
    );
  }

  /** The first line matching `re`, waiting up to `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs: number): Promise<string> {
    const line = await this.#first(re, timeoutMs);
    if (line !== undefined) return line;
    throw new Error(
      `worker ${this.child.pid} printed no line matching ${re} in ${timeoutMs} ms${
        this.child.exited ? " (it exited)" : ""
      }:\n${this.lines.map((l) => l.text).join("\n")}\n${
        this.stderr.join("\n")
      }`,
    );
  }

  /** Lines of run events of `kind` (`start`, `note`, `done`, ...). */
  events(kind: string): string[] {
    return this.#events(kind).map((l) => l.text);
  }

  /** When it printed `<kind> ...` about the run with `key` (first such line). */
  lineAt(kind: string, key: string): number | undefined {
    const short = key.slice(0, 12);
    return this.#events(kind).find((l) => l.text.includes(short))?.at;
  }

  /**
   * Sends `signal` (default SIGTERM), SIGKILL after 30 s; resolves with its
   * status once it is gone and its output read.
   */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus> {
    return this.child.stop({ signal });
  }

  #events(kind: string): WorkerLine[] {
    const re = new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${kind} `);
    return this.lines.filter((l) => re.test(l.text));
  }

  /** Undefined when the time ran out or the worker exited without it. */
  async #first(re: RegExp, timeoutMs: number): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    const find = () => this.lines.find((l) => re.test(l.text))?.text;
    for (;;) {
      const line = find();
      if (line !== undefined) return line;
      if (this.child.exited) {
        // Its last lines may still be in the pipe.
        await this.child.done;
        return find();
      }
      if (Date.now() > deadline) return undefined;
      await sleep(20);
    }
  }
}
