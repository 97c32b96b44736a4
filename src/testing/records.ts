/**
 * Hand-made hypotheses and run records for the claims and report tests. Small on
 * purpose: every number a test checks can be worked out from here by hand.
 *
 * @module
 */

import type { RecordedOutcome } from "../verdict/outcomes.ts";
import {
  type Hypothesis,
  RECORD_FORMAT,
  type RunRecord,
} from "../hypothesis/types.ts";
import { SEED_RUN, type TrainConfig } from "../step/config.ts";

/** The seeds' run with 11.2b's noise (the scale the seed code applies). */
export const JIGGLE_CONFIG: TrainConfig = {
  ...SEED_RUN,
  noise: { param: "wte", scale: 3e-6 },
};

/** A hypothesis with a seed result, recorded outcomes and replicates. */
export function makeHypothesis(over: Partial<Hypothesis> = {}): Hypothesis {
  return {
    id: "11.2b-jiggling",
    title: "Synthetic jiggling | noise",
    question: "Can noise of one bf16 ULP break a black hole apart?",
    background: "Qwen's post-training *consolidates* black holes.",
    design: "LayerNorm control with `wte` noise after every step.",
    config: JIGGLE_CONFIG,
    expectation: {
      verdict: "positive",
      reasoning: "Noise moves near-zero components apart.",
    },
    smoke: { steps: 20, justification: "The split happens early." },
    seedResult: {
      C: 2,
      P: 51,
      populations: [31, 20],
      source: "11.2b_synthetic_jiggling.ipynb",
    },
    ...over,
  };
}

/**
 * A 20-step smoke run: dead tokens NUL, ESC, backtick and pipe; clusters
 * {NUL, backtick, pipe} (all dead) and {newline, 'a'} (both live); C goes
 * from 1 to 2 at step 10.
 */
export function makeRun(over: Partial<RunRecord> = {}): RunRecord {
  const loss = Array.from({ length: 20 }, (_, i) => 4.8 - 0.1 * i);
  return {
    format: RECORD_FORMAT,
    hypothesisId: "11.2b-jiggling",
    tier: "smoke",
    seed: 42,
    steps: 20,
    backend: "cpu",
    status: "complete",
    key: "key-abc123",
    identity: {
      format: "horizon-run-identity/1",
      config: JIGGLE_CONFIG,
      steps: 20,
      corpusSha256: "ab".repeat(32),
      graphSha256: "ef".repeat(32),
      hostStreams: "v1:0123",
      backend: "cpu",
      onnxruntime: "onnxruntime-node 1.30.0",
      analysis: 2,
    },
    overrides: [],
    config: JIGGLE_CONFIG,
    corpus: {
      path: "fixtures/corpus/brown.txt",
      sha256: "ab".repeat(32),
      bytes: 265_905,
      deadTokens: [0x00, 0x1b, 0x60, 0x7c],
    },
    engine: "onnxruntime-node 1.30.0 CPU",
    backendReason: "no GPU adapter",
    threads: 2,
    versions: { deno: "2.9.6", onnxruntime: "onnxruntime-node 1.30.0" },
    wallMs: 3_723_400,
    loss,
    gradNorm: loss.map((l) => l / 4),
    trajectory: {
      step: [0, 5, 10, 15, 20],
      C: [1, 1, 2, 2, 2],
      P: [5, 5, 5, 5, 5],
      centroidNorm: [1, 0.99, 0.98, 0.97, 0.96],
      firstSplit: 10,
      firstEscape: null,
    },
    final: {
      C: 2,
      P: 5,
      clusters: [
        { population: 3, tokens: [0x00, 0x60, 0x7c] },
        { population: 2, tokens: [0x0a, 0x61] },
      ],
      nonFinite: [],
      centroidNorm: 0.96,
      displacement: 0.0000123,
      embeddingSha256: "cd".repeat(32),
    },
    divergence: null,
    verdict: "positive",
    history: null,
    finishedAt: "2025-01-02T03:04:05.000Z",
    ...over,
  };
}

/** Recorded outcomes of {@link makeHypothesis}: a smoke one and a full one on another backend. */
export const OUTCOMES: readonly RecordedOutcome[] = [
  {
    tier: "smoke",
    backend: "cpu",
    seed: 42,
    steps: 20,
    key: "key-abc123",
    verdict: "positive",
    C: 2,
    P: 5,
    populations: [3, 2],
  },
  {
    tier: "full",
    backend: "webgpu",
    seed: 42,
    steps: 10_000,
    key: "key-full",
    verdict: "positive",
    C: 2,
    P: 51,
    populations: [31, 20],
  },
];

/**
 * A completed replicate of {@link makeRun} with its own seed and key (and
 * sweep point): final C and P as given (the verdict follows the seeds' rule
 * with makeRun's 4 dead tokens), one cluster per unit of C.
 */
export function makeReplicate(
  seed: number,
  final: { C: number; P: number },
  over: Partial<RunRecord> = {},
): RunRecord {
  const base = makeRun();
  const verdict = final.C > 1 || final.P < 4 ? "positive" : "null";
  return makeRun({
    seed,
    key: `key-${seed}-${(over.overrides ?? []).join(",")}`,
    verdict,
    final: { ...base.final!, C: final.C, P: final.P },
    ...over,
  });
}

/** A replicate that diverged at step 2 (loss NaN): no final numbers. */
export function makeDiverged(
  seed: number,
  over: Partial<RunRecord> = {},
): RunRecord {
  return makeRun({
    seed,
    key: `key-${seed}-diverged`,
    status: "diverged",
    final: null,
    verdict: "invalid",
    divergence: { step: 2, quantity: "loss", value: NaN },
    loss: [4.8, NaN],
    gradNorm: [1, NaN],
    ...over,
  });
}

/** Three runs whose C trajectories differ (steps 0, 5, 10, 15, 20). */
export function envelopeRuns(): RunRecord[] {
  const run = (seed: number, C: number[]) =>
    makeReplicate(seed, { C: C[4], P: 4 }, {
      trajectory: { ...makeRun().trajectory, C },
    });
  return [
    run(42, [1, 1, 2, 2, 2]),
    run(1, [1, 3, 1, 1, 1]),
    run(2, [1, 1, 4, 5, 5]),
  ];
}
