/**
 * `deno task bench [--json] [--steps N] [--backends LIST]`: ms per training
 * step of the seed configuration (B=32, T=128, bf16) on every available
 * backend, next to PyTorch's on the same machine when a Python with torch is
 * installed. `deno task bench census` runs the census benchmark instead.
 * Prints numbers; asserts nothing.
 *
 * @module
 */

import { loadCorpus } from "../io/corpus.ts";
import type { BackendName } from "../runtime/engine.ts";
import { train } from "../runtime/trainer.ts";
import { probeAdapter } from "../runtime/webgpu_probe.ts";
import { SEED_RUN } from "../train/config.ts";
import {
  intOption,
  parseCliArgs,
  runCli,
  threadsOption,
  UsageError,
} from "./errors.ts";

const HELP = `Usage: deno task bench [options]
       deno task bench census [--json] [...]

Times training steps of the seed configuration (B=32, T=128, bf16, 116,480
parameters) on each backend and, when python3 with torch is available, the
same model in PyTorch (bf16, as the seeds ran it).

Options:
  --steps N         timed steps per backend (default 30; software WebGPU: 3)
  --warmup N        untimed steps first (default 5; software WebGPU: 1)
  --backends LIST   comma-separated subset of cpu,wasm,webgpu (default: all available)
  --threads N       cpu backend threads (default: all cores)
  --no-torch        skip the PyTorch comparison
  --json            one JSON object instead of a table
  -h, --help        this help
`;

/** One backend's measurement. */
export interface BenchRow {
  readonly backend: string;
  readonly engine: string;
  readonly steps: number;
  readonly msPerStepMedian: number;
  readonly msPerStepMin: number;
  readonly setupMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function benchBackend(
  backend: BackendName,
  corpus: Uint8Array,
  warmup: number,
  steps: number,
  threads?: number,
): Promise<BenchRow> {
  const times: number[] = [];
  let last = 0;
  const result = await train(SEED_RUN, corpus, {
    backend,
    steps: warmup + steps,
    threads,
    onStep: ({ step, elapsedMs }) => {
      if (step > warmup) times.push(elapsedMs - last);
      last = elapsedMs;
    },
  });
  return {
    backend,
    engine: result.engine,
    steps,
    msPerStepMedian: median(times),
    msPerStepMin: Math.min(...times),
    setupMs: result.setupMs,
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
    new URL("../../tools/reference/bench_torch.py", import.meta.url).pathname;
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

export async function main(args: string[]): Promise<number> {
  if (args[0] === "census") {
    const { censusBenchMain } = await import("../../bench/census.ts");
    return await censusBenchMain(args.slice(1));
  }
  const values = parseCliArgs(args, {
    steps: { type: "string" },
    warmup: { type: "string" },
    backends: { type: "string" },
    threads: { type: "string" },
    "no-torch": { type: "boolean" },
    json: { type: "boolean" },
  }).values;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const steps = intOption("steps", values.steps, { min: 1 }) ?? 30;
  const warmup = intOption("warmup", values.warmup, { min: 1 }) ?? 5;
  const threads = threadsOption(values.threads);
  const requested = (values.backends ?? "cpu,wasm,webgpu").split(",").map((s) =>
    s.trim()
  );
  for (const b of requested) {
    if (!["cpu", "wasm", "webgpu"].includes(b)) {
      throw new UsageError(
        `unknown backend ${JSON.stringify(b)}; choose from cpu, wasm, webgpu`,
      );
    }
  }
  const corpus = await loadCorpus(
    new URL("../../fixtures/corpus/brown.txt", import.meta.url).pathname,
  );
  const log = (s: string) => {
    if (!values.json) console.error(s);
  };
  const rows: BenchRow[] = [];
  const skipped: string[] = [];
  for (const b of requested as BackendName[]) {
    let n = steps, w = warmup;
    if (b === "webgpu") {
      const adapter = await probeAdapter();
      if (!adapter) {
        skipped.push("webgpu: no adapter");
        continue;
      }
      if (adapter.software) [n, w] = [Math.min(steps, 3), 1];
    }
    if (b === "wasm") n = Math.min(steps, 10);
    log(`timing ${b} (${w} warm-up + ${n} steps)...`);
    try {
      rows.push(
        await benchBackend(
          b,
          corpus.bytes,
          w,
          n,
          b === "cpu" ? threads : undefined,
        ),
      );
    } catch (e) {
      skipped.push(`${b}: ${(e as Error).message}`);
    }
  }
  let torch: Record<string, unknown> | null = null;
  if (!values["no-torch"]) {
    log("timing PyTorch (tools/reference/bench_torch.py)...");
    torch = await benchTorch(steps, threads);
    if (!torch) skipped.push("pytorch: no python3 with torch");
  }
  const machine =
    `${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}`;
  const cpu = rows.find((r) => r.backend === "cpu");
  const torchMs = torch ? Number(torch.ms_per_step_median) : null;
  const ratio = cpu && torchMs ? cpu.msPerStepMedian / torchMs : null;
  if (values.json) {
    console.log(JSON.stringify({
      config: "seed (B=32, T=128, bf16, 116,480 params)",
      machine,
      deno: Deno.version.deno,
      backends: rows,
      pytorch: torch,
      cpuOverPytorch: ratio,
      skipped,
    }));
    return 0;
  }
  console.log(
    `horizon training step, seed config (B=32, T=128, bf16) on ${machine}`,
  );
  console.log(
    "| backend | engine | ms/step (median) | ms/step (min) | setup ms |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(
      `| ${r.backend} | ${r.engine} | ${r.msPerStepMedian.toFixed(1)} | ${
        r.msPerStepMin.toFixed(1)
      } | ${r.setupMs.toFixed(0)} |`,
    );
  }
  if (torch) {
    console.log(
      `| pytorch | torch ${torch.torch} ${torch.precision}, ${torch.threads} threads | ${
        torchMs!.toFixed(1)
      } | - | - |`,
    );
  }
  if (ratio !== null) {
    console.log(`\ncpu / PyTorch time per step: ${ratio.toFixed(2)}x`);
  }
  for (const s of skipped) console.log(`skipped ${s}`);
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
