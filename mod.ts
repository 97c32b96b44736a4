/**
 * horizon: reproducible experiments on "black hole" token embeddings.
 *
 * A tiny GPT-2's training step is compiled to one standard ONNX graph
 * (forward, backward by autodiff, clipping, AdamW, bf16 rounding) and run on
 * onnxruntime: `webgpu`, `cpu` (onnxruntime-node) or `wasm`. Hypotheses are
 * declared in `hypotheses/`, run as tests in `experiments/`, and reported in
 * `reports/`.
 *
 * @example Train the seed configuration for a few steps and count black holes
 * ```ts ignore
 * import { findBlackHolesFloat32, loadCorpus, SEED_RUN, train } from "./mod.ts";
 *
 * const corpus = await loadCorpus("fixtures/corpus/brown.txt");
 * const result = await train(SEED_RUN, corpus.bytes, { backend: "cpu", steps: 50 });
 * const wte = result.finalParams.get("transformer.wte.weight")!;
 * const { C, P } = findBlackHolesFloat32(wte, 128, 64);
 * console.log(result.engine, C, P); // ... 1 51
 * ```
 *
 * @module
 */

// Graph compiler: IR, autodiff, reference interpreter, ONNX lowering.
export {
  Builder,
  type CustomGradient,
  type MatMulOptions,
} from "./src/graph/builder.ts";
export { gradients } from "./src/graph/autodiff.ts";
export { interpret } from "./src/graph/reference.ts";
export { IR_VERSION, OPSET_VERSION, toOnnx } from "./src/graph/onnx.ts";
export type { DType, Node, Value } from "./src/graph/ir.ts";
export { floatTensor, type HostTensor, intTensor } from "./src/graph/tensor.ts";

// Model.
export {
  type ModelConfig,
  type NormKind,
  parameterCount,
  parameterSpecs,
  type ParamSpec,
  SEED_MODEL,
} from "./src/model/config.ts";
export { type EmbeddingInit, initParameters } from "./src/model/init.ts";

// Training step and host-side determinism.
export {
  type CompiledStep,
  compileStep,
  type DecayPolicy,
  paramLayout,
  type Precision,
  seedStepConfig,
  type StepConfig,
} from "./src/train/step.ts";
export { type AdamWConfig, HF_ADAMW, stepScalars } from "./src/train/adamw.ts";
export {
  type NoiseConfig,
  SEED_RUN,
  stepConfigOf,
  type TrainConfig,
} from "./src/train/config.ts";
export { Pcg32, Stream } from "./src/train/rng.ts";
export {
  createSampler,
  makeBatch,
  type Objective,
} from "./src/train/sampler.ts";
export { roundArrayToBf16, roundToBf16 } from "./src/train/bf16.ts";
export { noiseForStep } from "./src/train/noise.ts";

// Runtime.
export {
  initialParameters,
  type StepInfo,
  train,
  type TrainOptions,
  type TrainResult,
} from "./src/runtime/trainer.ts";
export { selectBackend } from "./src/runtime/backend.ts";
export { StepRunner } from "./src/runtime/runner.ts";
export type { BackendName } from "./src/runtime/engine.ts";

// Files.
export { type Corpus, CorpusError, loadCorpus } from "./src/io/corpus.ts";
export {
  createSafetensorsStreamWriter,
  openSafetensors,
  parseSafetensors,
  SafetensorsError,
  writeSafetensors,
} from "./src/io/safetensors.ts";

// Analysis.
export {
  centroidNorm,
  describeToken,
  findBlackHoles,
  findBlackHolesFloat32,
} from "./src/analysis/black_holes.ts";

// Experiments and reports.
export type {
  CompleteRunRecord,
  FinalRecord,
  HistoryFileRecord,
  Hypothesis,
  RunRecord,
  RunStatus,
  RunVerdict,
  Tier,
  Verdict,
} from "./src/experiment/types.ts";
export { isComplete } from "./src/experiment/types.ts";
export {
  prepareRun,
  runHypothesis,
  runHypothesisDetailed,
  RunStoppedError,
} from "./src/experiment/run.ts";
export type {
  PreparedRun,
  RunOptions,
  RunOutcome,
} from "./src/experiment/run.ts";
export {
  ANALYSIS_VERSION,
  type RunIdentity,
  runIdentity,
} from "./src/experiment/run_key.ts";
export {
  applyOverrides,
  type Override,
  parseOverride,
} from "./src/experiment/overrides.ts";
export {
  readRecord,
  RecordError,
  recordPath,
  recordsOf,
} from "./src/experiment/records.ts";
export {
  readOutcomes,
  type RecordedOutcome,
} from "./src/experiment/outcomes.ts";
export { ConfigError, validateTrainConfig } from "./src/train/validate.ts";
export {
  HOST_STREAMS_VERSION,
  hostStreamsDigest,
} from "./src/train/host_streams.ts";
export { DivergedError, type Divergence } from "./src/runtime/divergence.ts";
export { verdictOf } from "./src/experiment/verdict.ts";
export { renderHypothesisReport } from "./src/report/markdown.ts";
export { runCensus } from "./src/census/census.ts";
