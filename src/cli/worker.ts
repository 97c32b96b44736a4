/**
 * `deno task worker --queue redis[s]://HOST:PORT [options]`: a queue worker
 * that trains runs until stopped. See `--help`.
 *
 * @module
 */

import {
  QUEUE_CA_ENV,
  QUEUE_PASSWORD_ENV,
  QUEUE_URL_ENV,
  resolveQueueTarget,
} from "../executor/queue/access.ts";
import { specLabel } from "../executor/queue/jobs.ts";
import type { QueueEvent } from "../executor/queue/queue_events.ts";
import { startWorker, type WorkerJob } from "../executor/queue/worker.ts";
import type { RunEvent } from "../executor/events.ts";
import {
  intOption,
  parseCliArgs,
  runCli,
  threadsOption,
  UsageError,
} from "./errors.ts";
import { stopSignal, stopState } from "../process/lifeline.ts";
import { queueSettings } from "./queue_settings.ts";

const HELP =
  `Usage: deno task worker --queue redis[s]://[USER@]HOST:PORT[/DB] [options]

Takes runs off the queue (BullMQ queue "horizon-runs" in that Redis) and
trains them until stopped; a job is one run, and the runs of a pack (\`sweep
--pack\`) queued side by side are taken together and trained as replicates of
one graph. The submitter (a sweep) collects the records, so nothing is written
here. A run is checkpointed to Redis every K steps; when a worker dies, its
runs are detected as stalled within about 25 s and resume from their last
checkpoints on other workers, with bit-identical records. Prints one line when
a run starts, notes something (a resume from a checkpoint), finishes, diverges,
fails or goes back to the queue; warnings go to stderr.

Options:
  --queue URL              the Redis server of the queue (or ${QUEUE_URL_ENV});
                           rediss:// is TLS, the certificate verified
  --queue-password-file F  the password (of USER, or of the server) is in F
                           (or ${QUEUE_PASSWORD_ENV}; never on the command line)
  --queue-ca FILE          PEM CA that signed the server's certificate (or
                           ${QUEUE_CA_ENV}); default: the system's CAs
  --concurrency N          graphs (runs or packs) trained at once (default 1)
  --threads N              cpu backend threads per run (1..cores; default: all)
  --checkpoint-every K     steps between checkpoints (default 500)
  -h, --help               this help

Ctrl-C or SIGTERM stops the run in progress after its current step and puts
it back in the queue (another worker resumes it from its last checkpoint); a
second Ctrl-C exits at once. A refused password, a missing one, or TLS that
does not match the server exits 2 before any run is taken.
`;

/**
 * One line about a run's event on this worker, or null for none (progress
 * and checkpoints are the submitter's to show).
 */
export function describeRunEvent(e: RunEvent, job: WorkerJob): string | null {
  const label = specLabel(e.spec);
  const wall = `${(job.wallMs / 1000).toFixed(1)} s`;
  switch (e.type) {
    case "started": {
      const n = job.pack.length;
      return `start ${label}${n > 1 ? ` (one of a pack of ${n})` : ""}${
        job.stalls > 0 ? ` (abandoned ${job.stalls}x before)` : ""
      }`;
    }
    case "progress":
    case "checkpointed":
      return null;
    case "note":
      return `note ${label}: ${e.text}`;
    case "finished": {
      const f = e.record.final;
      return `done ${label} in ${wall}${
        f ? `: C=${f.C} P=${f.P} (${e.record.verdict})` : ""
      }`;
    }
    case "diverged":
      return `diverged ${label} in ${wall}: ${e.message}`;
    case "failed":
      return `failed ${label} in ${wall}: ${e.message}`;
    case "stopped":
      return `released ${label} in ${wall}: ${e.message}`;
  }
}

/** One line about the worker's queue event, or null for none. */
export function describeQueueEvent(e: QueueEvent): string | null {
  switch (e.type) {
    case "stalled":
      return `requeued ${e.jobId.slice(0, 12)} (its worker stopped answering)`;
    case "error":
      return `warning: ${e.message}`;
    default: // ready (the CLI says so itself), or a submitter's
      return null;
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, {
    queue: { type: "string" },
    "queue-password-file": { type: "string" },
    "queue-ca": { type: "string" },
    concurrency: { type: "string" },
    threads: { type: "string" },
    "checkpoint-every": { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const target = await queueSettings(() =>
    resolveQueueTarget({
      queue: values.queue,
      passwordFile: values["queue-password-file"],
      caFile: values["queue-ca"],
    })
  );
  if (target === undefined) {
    throw new UsageError(
      `--queue redis://HOST:PORT is required, or ${QUEUE_URL_ENV} (see --help)`,
    );
  }
  const concurrency = intOption("concurrency", values.concurrency, {
    min: 1,
    max: 64,
  }) ?? 1;
  const threads = threadsOption(values.threads);
  const checkpointEvery = intOption(
    "checkpoint-every",
    values["checkpoint-every"],
    { min: 1 },
  ) ?? 500;
  const signal = stopSignal();
  const worker = await queueSettings(() =>
    startWorker(target, {
      concurrency,
      threads,
      checkpointEvery,
      onRunEvent: (e, job) => print(describeRunEvent(e, job)),
      onQueueEvent: (e) =>
        print(describeQueueEvent(e), e.type === "error" ? "stderr" : "stdout"),
    })
  );
  console.log(
    `worker ${Deno.pid}: waiting for runs on ${target.url} (concurrency ${concurrency}, threads ${
      threads ?? "all"
    }, checkpoint every ${checkpointEvery} steps)`,
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  console.log(`worker ${Deno.pid}: stopping (${signal.reason})`);
  await worker.close();
  console.error(`stopped: ${signal.reason}`);
  return stopState()?.exitCode ?? 0;
}

/** Prints `line` (if any) with the time, on stdout unless told stderr. */
function print(line: string | null, to: "stdout" | "stderr" = "stdout") {
  if (line === null) return;
  const at = new Date().toISOString().slice(11, 19);
  if (to === "stderr") console.error(`${at} ${line}`);
  else console.log(`${at} ${line}`);
}

if (import.meta.main) await runCli(() => main(Deno.args));
