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
 * ```ts
 * import assert from "node:assert/strict";
 * import { findBlackHolesFloat32, loadCorpus, SEED_RUN, train } from "./mod.ts";
 *
 * const corpus = await loadCorpus(
 *   new URL("./fixtures/corpus/brown.txt", import.meta.url).pathname,
 * );
 * const result = await train(SEED_RUN, corpus.bytes, { backend: "cpu", steps: 50 });
 * const wte = result.finalParams.get("transformer.wte.weight")!;
 * const { C, P } = findBlackHolesFloat32(wte, 128, 64);
 * // Qwen init, no noise: every dead token still shares one vector.
 * assert.equal(C, 1);
 * assert.equal(P, corpus.deadTokens.length);
 * ```
 *
 * @module
 */

// Graph compiler: IR, autodiff, reference interpreter, ONNX lowering.
export {
  Builder,
  type CustomGradient,
  type GraphOutput,
  type MatMulOptions,
} from "./src/graph/builder.ts";
export { gradients } from "./src/graph/autodiff.ts";
export { vmapGraph, type VmapOptions } from "./src/graph/vmap.ts";
export { interpret } from "./src/graph/reference.ts";
export {
  IR_VERSION,
  OPSET_VERSION,
  toOnnx,
  type ToOnnxOptions,
} from "./src/graph/onnx.ts";
export type {
  Attrs,
  AttrValue,
  DType,
  Node,
  Value,
  ValueSource,
} from "./src/graph/ir.ts";
export {
  floatTensor,
  type HostData,
  type HostTensor,
  intTensor,
} from "./src/graph/tensor.ts";

// Model.
export {
  type ModelConfig,
  type NormKind,
  parameterCount,
  parameterSpecs,
  type ParamRole,
  type ParamSpec,
  SEED_MODEL,
} from "./src/model/config.ts";
export {
  type EmbeddingInit,
  type InitOptions,
  initParameters,
} from "./src/model/init.ts";

// Training step and host-side determinism.
export {
  type CompiledStep,
  compileStep,
  type DecayPolicy,
  paramLayout,
  type ParamSlot,
  type Precision,
  seedStepConfig,
  type StepConfig,
  type TensorSpec,
} from "./src/step/step.ts";
export {
  compileReplicatedStep,
  type ReplicatedStep,
} from "./src/step/replicated_step.ts";
export {
  type AdamWConfig,
  HF_ADAMW,
  type StepScalars,
  stepScalars,
} from "./src/step/adamw.ts";
export {
  type NoiseConfig,
  SEED_RUN,
  stepConfigOf,
  type TrainConfig,
} from "./src/step/config.ts";
export {
  type NormalSource,
  Pcg32,
  type Pcg32Snapshot,
  Stream,
  type U64,
} from "./src/data/rng.ts";
export {
  type Batch,
  createSampler,
  makeBatch,
  type Objective,
  type Sampler,
  type SamplerOptions,
} from "./src/data/sampler.ts";
export { roundArrayToBf16, roundToBf16 } from "./src/data/bf16.ts";
export {
  noiseForStep,
  type NoiseOptions,
  type NoisePrecision,
} from "./src/data/noise.ts";

// Runtime.
export {
  initialParameters,
  type ReplicateHooks,
  type ReplicateOutcome,
  type ReplicateTrainOptions,
  type StepInfo,
  train,
  type TrainerCheckpoint,
  type TrainOptions,
  trainReplicates,
  type TrainResult,
} from "./src/runtime/trainer.ts";
export { type BackendChoice, selectBackend } from "./src/runtime/backend.ts";
export {
  DEFAULT_DEVICE_READ_EVERY,
  type FlatState,
  type StepFeed,
  type StepOutput,
  type StepRecord,
  StepRunner,
  type StepRunnerOptions,
} from "./src/runtime/runner.ts";
export { REPLICATES_MATCH_SOLO } from "./src/runtime/engine.ts";
export type {
  BackendName,
  DeviceLog,
  Engine,
  EngineSession,
  HostArray,
  LogCopy,
  OrtTensor,
  SessionOptions,
} from "./src/runtime/engine.ts";
export {
  type GpuCounters,
  type GpuCounts,
  perStep,
  startGpuCounters,
} from "./src/runtime/gpu_counters.ts";
export type { AdapterInfo } from "./src/runtime/webgpu_probe.ts";
export type { HostStreamsSnapshot } from "./src/step/host_streams.ts";

// Files.
export {
  type Corpus,
  CorpusError,
  type CorpusErrorCode,
  type CorpusFilter,
  type CorpusOptions,
  loadCorpus,
} from "./src/data/corpus.ts";
export {
  createSafetensorsStreamWriter,
  type Dtype,
  DTYPE_SIZES,
  encodeSafetensors,
  type EncodeSafetensorsOptions,
  openSafetensors,
  parseSafetensors,
  type ReadRowsOptions,
  type RowBlock,
  type RowBlocksOptions,
  type SafetensorsBuffer,
  SafetensorsError,
  type SafetensorsErrorCode,
  type SafetensorsFile,
  type SafetensorsHeader,
  type SafetensorsStreamWriter,
  type StreamWriterOptions,
  type TensorData,
  type TensorInfo,
  type TensorSpec as SafetensorsTensorSpec,
  writeSafetensors,
  type WriteSafetensorsOptions,
} from "./src/io/safetensors/mod.ts";

// Analysis.
export {
  findBlackHoles,
  findBlackHolesFloat32,
  type Float32BlackHoleOptions,
} from "./src/analysis/black_holes.ts";
export type {
  BlackHoleCluster,
  BlackHoleOptions,
  BlackHoleReport,
  RowMatrix,
} from "./src/analysis/types.ts";
export type { HashEngine } from "./src/analysis/row_key/hasher.ts";
export type { FloatDtype } from "./src/analysis/row_key/non_finite.ts";
export type { RowHash } from "./src/analysis/row_key/row_hash.ts";
export { centroidNorm } from "./src/analysis/embedding_stats.ts";
export { describeToken } from "./src/analysis/token_names.ts";
export type { StreamingOptions } from "./src/census/scan.ts";

// Experiments and reports.
export type {
  ClusterRecord,
  CompleteRunRecord,
  Expectation,
  FinalRecord,
  HistoryFileRecord,
  Hypothesis,
  Replicates,
  RunRecord,
  RunStatus,
  RunVerdict,
  SweepAxis,
  Tier,
  TrajectoryRecord,
  Verdict,
} from "./src/hypothesis/types.ts";
export { isComplete, RECORD_FORMAT } from "./src/hypothesis/types.ts";
export { type PreparedRun, prepareRun } from "./src/run/prepare.ts";
export type { RunOptions } from "./src/run/run_options.ts";
export {
  type PackedOutcome,
  type PackedRun,
  runHypothesis,
  runHypothesisDetailed,
  type RunOutcome,
  runPackedDetailed,
  RunStoppedError,
} from "./src/run/run.ts";
export {
  ANALYSIS_VERSION,
  RUN_IDENTITY_FORMAT,
  type RunIdentity,
  runIdentity,
  type RunIdentityInputs,
} from "./src/hypothesis/run_key.ts";
export type { CheckpointStore } from "./src/history/checkpoint.ts";
export {
  applyOverrides,
  type Override,
  parseOverride,
} from "./src/hypothesis/overrides.ts";
export {
  readRecord,
  RecordError,
  type RecordName,
  recordPath,
  recordsOf,
} from "./src/history/records.ts";
export { readOutcomes, type RecordedOutcome } from "./src/verdict/outcomes.ts";
export { ConfigError, validateTrainConfig } from "./src/step/validate.ts";
export {
  HOST_STREAMS_VERSION,
  hostStreamsDigest,
} from "./src/step/host_streams.ts";
export { DivergedError, type Divergence } from "./src/runtime/divergence.ts";
export { verdictOf } from "./src/verdict/verdict.ts";
export {
  type ControlInput,
  type HypothesisReportOptions,
  renderHypothesisReport,
  type ReportPlots,
} from "./src/report/markdown/mod.ts";
export {
  type CensusCluster,
  type CensusOptions,
  type CensusReport,
  runCensus,
  type TensorCensus,
  type Tying,
} from "./src/census/census.ts";
