/**
 * `deno task bench [--json] [--steps N] [--backends LIST]`: time per training
 * step of the seed configuration (B=32, T=128, bf16) on every available
 * backend, next to PyTorch's on the same machine when a Python with torch is
 * installed; on WebGPU also what a step asks of the GPU (dispatches, bytes up
 * and down, GPU-to-CPU syncs, memory growth), counted by wrapping the WebGPU
 * methods. `deno task bench census` runs the census benchmark instead, and
 * `deno task bench runs` the runs-per-hour benchmark (bench/runs.ts).
 * Prints numbers; asserts nothing.
 *
 * The `--json` fields (documented in README, section Performance) are stable
 * names: `backends.<name>.msPerStep`,
 * `backends.<name>.replicates.<R>.replicateStepsPerSecond` (and on webgpu
 * `.dispatchesPerStep`, per graph step of R replicates), and for webgpu
 * `backends.webgpu.{dispatchesPerStep, bytesUpPerStep, bytesDownPerStep,
 * syncsPerStep, gpuMemoryGrowthBytesPerStep}`.
 *
 * @module
 */

import { distribution } from "../src/verdict/rates.ts";
import { loadCorpus } from "../src/data/corpus.ts";
import type { BackendName } from "../src/runtime/engine.ts";
import {
  type GpuCounts,
  startGpuCounters,
} from "../src/runtime/gpu_counters.ts";
import { DEFAULT_DEVICE_READ_EVERY } from "../src/runtime/runner.ts";
import { train, trainReplicates } from "../src/runtime/trainer.ts";
import { probeAdapter } from "../src/runtime/webgpu_probe.ts";
import { SEED_RUN } from "../src/step/config.ts";
import {
  intOption,
  parseCliArgs,
  runCli,
  threadsOption,
} from "../src/cli/errors.ts";
import { backendListOption, BACKENDS } from "../src/cli/options.ts";

const HELP = `Usage: deno task bench [options]
       deno task bench census [--json] [...]
       deno task bench runs [--json] [--runs N] [...]   runs/hour: pool and queue

Times training steps of the seed configuration (B=32, T=128, bf16, 116,480
parameters) on each backend and, when python3 with torch is available, the
same model in PyTorch (bf16, as the seeds ran it). Steps run as in an
experiment: the embedding is recorded after every step, and losses and
snapshots are read from the engine once per read window. On WebGPU it also
counts what a step asks of the GPU.

Options:
  --steps N          timed steps per backend (default 30; software WebGPU: 4)
  --warmup N         untimed steps first (default 5; software WebGPU: 2)
  --read-every K     steps per read window (default: the trainer's, 50 on
                     WebGPU and 1 on cpu and wasm; software WebGPU: 2); warm-up
                     and timed steps are rounded up to whole windows
  --history-every N  record the embedding every N steps (default 1; 0: never)
  --replicates LIST  replicate counts R to time (default 1): R seeds trained
                     as replicates of one graph (trainReplicates)
  --backends LIST    comma-separated subset of cpu,wasm,webgpu (default: all available)
  --threads N        cpu backend threads (default: all cores)
  --no-torch         skip the PyTorch comparison
  --json             one JSON object instead of a table
  -h, --help         this help
`;

/** What a WebGPU step asks of the GPU (means over the timed steps). */
export interface GpuStepCounts {
  /** Compute dispatches per step. */
  readonly dispatchesPerStep: number;
  /** Queue submits per step. */
  readonly submitsPerStep: number;
  /** Bytes written to the GPU per step (writeBuffer, mapped uploads). */
  readonly bytesUpPerStep: number;
  /** Bytes read back per step (buffers mapped for reading). */
  readonly bytesDownPerStep: number;
  /** GPU-to-CPU syncs per step (mapAsync, onSubmittedWorkDone). */
  readonly syncsPerStep: number;
  /** Growth of live GPU buffer bytes per step after the warm-up. */
  readonly gpuMemoryGrowthBytesPerStep: number;
}

/** One backend's measurement (`backends.<name>` in the JSON). */
export interface BenchBackend extends Partial<GpuStepCounts> {
  /** Engine and adapter. */
  readonly engine: string;
  /** Timed steps. */
  readonly steps: number;
  /** Untimed steps before them. */
  readonly warmup: number;
  /** Steps per read window. */
  readonly readEvery: number;
  /** Wall ms per step over the timed steps, one replicate (R = 1). */
  readonly msPerStep: number;
  /** Median over the timed read windows of ms per step. */
  readonly msPerStepMedian: number;
  /** Fastest timed read window, in ms per step. */
  readonly msPerStepMin: number;
  /** Time to compile and load the graph. */
  readonly setupMs: number;
  /** Per replicate count R: replicate-steps per second (R / s per step). */
  readonly replicates: Record<string, ReplicateBench>;
}

/** `n` rounded up to a multiple of `k`. */
const wholeWindows = (n: number, k: number) => Math.ceil(n / k) * k;

interface Plan {
  readonly warmup: number;
  readonly steps: number;
  readonly readEvery: number;
  readonly historyEvery: number;
  readonly threads?: number;
}

async function benchBackend(
  backend: BackendName,
  corpus: Uint8Array,
  plan: Plan,
): Promise<BenchBackend> {
  const { warmup, steps, readEvery: K, historyEvery } = plan;
  const counters = backend === "webgpu" ? startGpuCounters() : null;
  /** Elapsed ms and GPU counts at the end of each read window. */
  const marks = new Map<number, { ms: number; gpu: GpuCounts | null }>();
  let result;
  try {
    result = await train(SEED_RUN, corpus, {
      backend,
      steps: warmup + steps,
      threads: plan.threads,
      readEvery: K,
      embeddingEvery: historyEvery,
      onEmbedding: historyEvery ? () => {} : undefined,
      onStep: ({ step, elapsedMs }) => {
        if (step % K === 0) {
          marks.set(step, { ms: elapsedMs, gpu: counters?.read() ?? null });
        }
      },
    });
  } finally {
    counters?.stop();
  }
  const perWindow: number[] = [];
  for (let end = warmup + K; end <= warmup + steps; end += K) {
    perWindow.push((marks.get(end)!.ms - marks.get(end - K)!.ms) / K);
  }
  const first = marks.get(warmup)!, last = marks.get(warmup + steps)!;
  const msPerStep = (last.ms - first.ms) / steps;
  const gpu: Partial<GpuStepCounts> = first.gpu && last.gpu
    ? (() => {
      const d = (k: keyof GpuCounts) => (last.gpu![k] - first.gpu![k]) / steps;
      return {
        dispatchesPerStep: d("dispatches"),
        submitsPerStep: d("submits"),
        bytesUpPerStep: d("bytesUp"),
        bytesDownPerStep: d("bytesDown"),
        syncsPerStep: d("syncs"),
        gpuMemoryGrowthBytesPerStep: d("liveBytes"),
      };
    })()
    : {};
  return {
    engine: result.engine,
    steps,
    warmup,
    readEvery: K,
    msPerStep,
    msPerStepMedian: distribution(perWindow).median,
    msPerStepMin: Math.min(...perWindow),
    setupMs: result.setupMs,
    replicates: {
      "1": {
        replicateStepsPerSecond: 1000 / msPerStep,
        ...(gpu.dispatchesPerStep === undefined
          ? {}
          : { dispatchesPerStep: gpu.dispatchesPerStep }),
      },
    },
    ...gpu,
  };
}

/** Throughput of R replicates in one graph (and on WebGPU, its dispatches). */
interface ReplicateBench {
  /** Replicate-steps per second (R per graph step). */
  readonly replicateStepsPerSecond: number;
  /** WebGPU compute dispatches per graph step (all R replicates). */
  readonly dispatchesPerStep?: number;
}

/**
 * Replicate-steps per second of R seeds trained as replicates of one graph,
 * recording every replicate's embedding as an experiment does.
 */
async function benchReplicates(
  backend: BackendName,
  replicas: number,
  corpus: Uint8Array,
  plan: Plan,
): Promise<ReplicateBench> {
  const { warmup, steps, readEvery: K, historyEvery } = plan;
  const counters = backend === "webgpu" ? startGpuCounters() : null;
  const marks = new Map<number, { ms: number; dispatches: number }>();
  const configs = Array.from(
    { length: replicas },
    (_, r) => ({ ...SEED_RUN, seed: SEED_RUN.seed + r }),
  );
  try {
    const outcomes = await trainReplicates(configs, corpus, {
      backend,
      steps: warmup + steps,
      threads: plan.threads,
      readEvery: K,
      embeddingEvery: historyEvery,
      replicates: configs.map((_, r) => ({
        onEmbedding: historyEvery ? () => {} : undefined,
        onStep: r === 0
          ? ({ step, elapsedMs }) =>
            void marks.set(step, {
              ms: elapsedMs,
              dispatches: counters?.read().dispatches ?? 0,
            })
          : undefined,
      })),
    });
    const failed = outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) throw failed.error;
  } finally {
    counters?.stop();
  }
  const first = marks.get(warmup)!, last = marks.get(warmup + steps)!;
  return {
    replicateStepsPerSecond: (replicas * steps) / ((last.ms - first.ms) / 1000),
    ...(counters
      ? { dispatchesPerStep: (last.dispatches - first.dispatches) / steps }
      : {}),
  };
}

async function findTorchPython(): Promise<string | null> {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      const out = await new Deno.Command(py, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.success) return py;
    } catch {
      // not installed
    }
  }
  return null;
}

async function benchTorch(
  steps: number,
  threads?: number,
): Promise<Record<string, unknown> | null> {
  const py = await findTorchPython();
  if (!py) return null;
  const script =
    new URL("../tools/reference/bench_torch.py", import.meta.url).pathname;
  const args = [script, "--steps", String(steps)];
  if (threads) args.push("--threads", String(threads));
  const out = await new Deno.Command(py, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    console.error(
      `PyTorch benchmark failed: ${
        new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)
      }`,
    );
    return null;
  }
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

function replicatesOption(value: string | undefined): number[] {
  if (value === undefined) return [1];
  const list = value.split(",").map((r) =>
    intOption("replicates", r.trim(), { min: 1 })!
  );
  return [...new Set(list)].sort((a, b) => a - b);
}

function formatBytes(b: number): string {
  const a = Math.abs(b);
  if (a >= 1e6) return `${(b / 1e6).toFixed(2)} MB`;
  if (a >= 1e3) return `${(b / 1e3).toFixed(1)} kB`;
  return `${Number(b.toFixed(1))} B`;
}

/** The parsed options of a step-time benchmark. */
interface BenchArgs {
  /** `--steps`; each backend's default when absent. */
  readonly steps?: number;
  /** `--warmup`; each backend's default when absent. */
  readonly warmup?: number;
  /** `--read-every`; each backend's default when absent. */
  readonly readEvery?: number;
  /** `--history-every` (default 1). */
  readonly historyEvery: number;
  /** `--replicates`, ascending (default [1]). */
  readonly replicates: readonly number[];
  /** `--threads` of the cpu backend. */
  readonly threads?: number;
  /** `--backends` (default: all). */
  readonly backends: readonly BackendName[];
  /** Not `--no-torch`. */
  readonly torch: boolean;
  /** `--json`. */
  readonly json: boolean;
}

/** The options of `args`; null for `--help`. Bad input throws a UsageError. */
function parseBenchArgs(args: string[]): BenchArgs | null {
  const values = parseCliArgs(args, {
    steps: { type: "string" },
    warmup: { type: "string" },
    "read-every": { type: "string" },
    "history-every": { type: "string" },
    replicates: { type: "string" },
    backends: { type: "string" },
    threads: { type: "string" },
    "no-torch": { type: "boolean" },
    json: { type: "boolean" },
  }).values;
  if (values.help) return null;
  return {
    steps: intOption("steps", values.steps, { min: 1 }),
    warmup: intOption("warmup", values.warmup, { min: 1 }),
    readEvery: intOption("read-every", values["read-every"], { min: 1 }),
    historyEvery:
      intOption("history-every", values["history-every"], { min: 0 }) ?? 1,
    replicates: replicatesOption(values.replicates),
    threads: threadsOption(values.threads),
    backends: backendListOption("backends", values.backends) ?? BACKENDS,
    torch: !values["no-torch"],
    json: values.json === true,
  };
}

/**
 * The steps to time on backend `b`: the defaults, fewer on software WebGPU
 * and wasm, rounded up to whole read windows; null when WebGPU has no
 * adapter.
 */
async function planFor(b: BackendName, args: BenchArgs): Promise<Plan | null> {
  const { steps, warmup, readEvery } = args;
  let n = steps ?? 30, w = warmup ?? 5;
  let k = readEvery ?? (b === "webgpu" ? DEFAULT_DEVICE_READ_EVERY : 1);
  if (b === "webgpu") {
    const adapter = await probeAdapter();
    if (!adapter) return null;
    if (adapter.software) {
      [n, w, k] = [steps ?? 4, warmup ?? 2, readEvery ?? 2];
    }
  }
  if (b === "wasm") n = Math.min(n, 10);
  [n, w] = [wholeWindows(n, k), wholeWindows(w, k)];
  return {
    warmup: w,
    steps: n,
    readEvery: k,
    historyEvery: args.historyEvery,
    threads: b === "cpu" ? args.threads : undefined,
  };
}

/** Each requested backend's step time and replicate throughput. */
async function benchBackends(
  args: BenchArgs,
  corpus: Uint8Array,
  log: (line: string) => void,
): Promise<{ rows: Record<string, BenchBackend>; skipped: string[] }> {
  const rows: Record<string, BenchBackend> = {};
  const skipped: string[] = [];
  for (const b of args.backends) {
    const plan = await planFor(b, args);
    if (!plan) {
      skipped.push("webgpu: no adapter");
      continue;
    }
    log(
      `timing ${b} (${plan.warmup} warm-up + ${plan.steps} steps, read every ${plan.readEvery})...`,
    );
    try {
      rows[b] = await benchBackend(b, corpus, plan);
    } catch (e) {
      skipped.push(`${b}: ${(e as Error).message}`);
      continue;
    }
    for (const r of args.replicates.filter((r) => r > 1)) {
      log(`timing ${b} with ${r} replicates in one graph...`);
      try {
        rows[b].replicates[String(r)] = await benchReplicates(
          b,
          r,
          corpus,
          plan,
        );
      } catch (e) {
        skipped.push(`${b} replicates ${r}: ${(e as Error).message}`);
      }
    }
  }
  return { rows, skipped };
}

/** What the step-time benchmark measured, for the table. */
interface BenchResult {
  readonly machine: string;
  readonly rows: Record<string, BenchBackend>;
  readonly torch: Record<string, unknown> | null;
  readonly torchMs: number | null;
  /** cpu's median ms per step over PyTorch's. */
  readonly ratio: number | null;
  readonly skipped: readonly string[];
}

/** The step-time table, then the WebGPU counts and replicate throughputs. */
function printTable(result: BenchResult): void {
  const { machine, rows, torch, torchMs, ratio } = result;
  console.log(
    `horizon training step, seed config (B=32, T=128, bf16) on ${machine}`,
  );
  console.log(
    "| backend | engine | read every | ms/step | ms/step (median window) | ms/step (min window) | setup ms |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const [name, r] of Object.entries(rows)) {
    console.log(
      `| ${name} | ${r.engine} | ${r.readEvery} | ${r.msPerStep.toFixed(1)} | ${
        r.msPerStepMedian.toFixed(1)
      } | ${r.msPerStepMin.toFixed(1)} | ${r.setupMs.toFixed(0)} |`,
    );
  }
  if (torch) {
    console.log(
      `| pytorch | torch ${torch.torch} ${torch.precision}, ${torch.threads} threads | - | ${
        torchMs!.toFixed(1)
      } | - | - | - |`,
    );
  }
  const gpu = rows.webgpu;
  if (gpu?.dispatchesPerStep !== undefined) {
    console.log(
      `\nwebgpu per step: ${gpu.dispatchesPerStep.toFixed(0)} dispatches, ${
        gpu.submitsPerStep!.toFixed(1)
      } submits, ${formatBytes(gpu.bytesUpPerStep!)} up, ${
        formatBytes(gpu.bytesDownPerStep!)
      } down, ${gpu.syncsPerStep!.toFixed(3)} syncs, GPU memory growth ${
        formatBytes(gpu.gpuMemoryGrowthBytesPerStep!)
      }`,
    );
  }
  printReplicates(rows);
  if (ratio !== null) {
    console.log(`\ncpu / PyTorch time per step: ${ratio.toFixed(2)}x`);
  }
  for (const s of result.skipped) console.log(`skipped ${s}`);
}

/** Per backend timed with several replicate counts: replicate-steps/s. */
function printReplicates(rows: Record<string, BenchBackend>): void {
  for (const [name, r] of Object.entries(rows)) {
    const counts = Object.entries(r.replicates);
    if (counts.length < 2) continue;
    const one = r.replicates["1"].replicateStepsPerSecond;
    console.log(
      `\n${name} replicate-steps/s: ${
        counts.map(([n, v]) =>
          `R=${n} ${v.replicateStepsPerSecond.toFixed(1)} (${
            (v.replicateStepsPerSecond / one).toFixed(2)
          }x${
            v.dispatchesPerStep === undefined
              ? ""
              : `, ${
                (v.dispatchesPerStep / Number(n)).toFixed(0)
              } dispatches per replicate-step`
          })`
        ).join(", ")
      }`,
    );
  }
}

/**
 * CLI entry: `census` and `runs` go to their benchmarks; otherwise times the
 * training step on each backend and prints the table (or `--json`). Returns
 * the exit code.
 */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "census") {
    const { censusBenchMain } = await import("./census.ts");
    return await censusBenchMain(args.slice(1));
  }
  if (args[0] === "runs") {
    const { runsBenchMain } = await import("./runs.ts");
    return await runsBenchMain(args.slice(1));
  }
  const parsed = parseBenchArgs(args);
  if (!parsed) {
    console.log(HELP);
    return 0;
  }
  const corpus = await loadCorpus(
    new URL("../fixtures/corpus/brown.txt", import.meta.url).pathname,
  );
  const log = (s: string) => {
    if (!parsed.json) console.error(s);
  };
  const { rows, skipped } = await benchBackends(parsed, corpus.bytes, log);
  let torch: Record<string, unknown> | null = null;
  if (parsed.torch) {
    log("timing PyTorch (tools/reference/bench_torch.py)...");
    torch = await benchTorch(parsed.steps ?? 30, parsed.threads);
    if (!torch) skipped.push("pytorch: no python3 with torch");
  }
  const machine =
    `${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}`;
  const cpu = rows.cpu;
  const torchMs = torch ? Number(torch.ms_per_step_median) : null;
  const ratio = cpu && torchMs ? cpu.msPerStepMedian / torchMs : null;
  if (parsed.json) {
    console.log(JSON.stringify({
      config: "seed (B=32, T=128, bf16, 116,480 params)",
      machine,
      deno: Deno.version.deno,
      historyEvery: parsed.historyEvery,
      backends: rows,
      pytorch: torch,
      cpuOverPytorch: ratio,
      skipped,
    }));
    return 0;
  }
  printTable({ machine, rows, torch, torchMs, ratio, skipped });
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
