/**
 * Helpers shared by the test files: temporary directories and running a
 * CLI as a user would (a subprocess with its exit code and output).
 *
 * @module
 */

import type { Hypothesis, Verdict } from "../hypothesis/types.ts";
import { probeAdapter } from "../runtime/webgpu_probe.ts";
import { SEED_RUN, type TrainConfig } from "../step/config.ts";

/** The seed config at test size: 2 windows of 16 tokens, context 16. */
export const TINY_RUN: TrainConfig = {
  ...SEED_RUN,
  model: { ...SEED_RUN.model, context: 16 },
  batchSize: 2,
  seqLen: 16,
};

/**
 * Whether WebGPU tests can run: an adapter exists (lavapipe in CI) and
 * `HORIZON_SKIP_WEBGPU` is not set.
 */
export async function webgpuForTests(): Promise<boolean> {
  if (Deno.env.get("HORIZON_SKIP_WEBGPU")) return false;
  return (await probeAdapter()) !== null;
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  prefix = "horizon_test_",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Names in a directory, sorted. */
export async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** What a subprocess run of a CLI returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a Deno script (absolute path) with `-A` and the given arguments. */
export async function runScript(
  script: string,
  args: readonly string[],
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/**
 * A hypothesis of the seeds' model shrunk to context 16 and batch 2, which
 * trains in well under a second; `config` and `smoke` fields override.
 */
export function tinyHypothesis(
  id: string,
  over: {
    config?: Partial<TrainConfig>;
    smokeSteps?: number;
    verdict?: Verdict;
  } = {},
): Hypothesis {
  return {
    id,
    title: id,
    question: "",
    background: "",
    design: "",
    config: {
      ...SEED_RUN,
      model: { ...SEED_RUN.model, context: 16 },
      batchSize: 2,
      seqLen: 16,
      maxSteps: 50,
      ...over.config,
    },
    expectation: { verdict: over.verdict ?? "null", reasoning: "" },
    smoke: { steps: over.smokeSteps ?? 4, justification: "" },
  };
}
