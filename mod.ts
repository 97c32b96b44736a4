/**
 * horizon: reproducible experiments on "black hole" token embeddings.
 *
 * A tiny GPT-2's training step is compiled to one standard ONNX graph
 * (forward, backward by autodiff, clipping, AdamW, bf16 rounding) and run on
 * onnxruntime: `webgpu`, `cpu` (onnxruntime-node) or `wasm`. Hypotheses are
 * declared in `hypotheses/`, run as tests in `experiments/`, and reported in
 * `reports/`.
 *
 * This module is the public surface, grouped by who needs it:
 *
 * - **Writing a hypothesis**: the {@linkcode Hypothesis} vocabulary, the
 *   seeds' configuration {@linkcode SEED_RUN}, config validation and
 *   `path=value` overrides, and {@linkcode gateHypothesis} for its test.
 * - **Running and reading results**: {@linkcode runHypothesis} (cached by
 *   run key, resumable through a {@linkcode CheckpointStore}), run records
 *   and recorded outcomes, the verdict rule.
 * - **The engine**: corpus loading, {@linkcode compileStep} (one training
 *   step as one ONNX graph), {@linkcode train} on a backend, and the graph
 *   compiler underneath ({@linkcode Builder}, autodiff, vmap, ONNX lowering,
 *   a float64 reference interpreter).
 * - **Black holes in any matrix and the census**: {@linkcode findBlackHoles},
 *   {@linkcode runCensus} over safetensors files, and the safetensors
 *   reader and writers.
 *
 * Everything else under `src/` is internal and may change without notice.
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

// Writing a hypothesis.
export type {
  Expectation,
  Hypothesis,
  Replicates,
  RunVerdict,
  SweepAxis,
  Tier,
  Verdict,
} from "./src/hypothesis/types.ts";
export {
  type NoiseConfig,
  SEED_RUN,
  type TrainConfig,
} from "./src/step/config.ts";
export type { AdamWConfig } from "./src/step/adamw.ts";
export {
  type ModelConfig,
  type NormKind,
  type ParamRole,
  type ParamSpec,
  SEED_MODEL,
} from "./src/model/config.ts";
export { type EmbeddingInit } from "./src/model/init.ts";
export { type DropoutConfig, HF_DROPOUT } from "./src/model/dropout.ts";
export { type Objective } from "./src/data/sampler.ts";
export { ConfigError, validateTrainConfig } from "./src/step/validate.ts";
export {
  applyOverrides,
  type Override,
  parseOverride,
} from "./src/hypothesis/overrides.ts";
export { type ExpectedVerdicts, gateHypothesis } from "./src/gate/check.ts";

// Running and reading results.
export {
  runHypothesis,
  type RunOutcome,
  RunStoppedError,
} from "./src/run/run.ts";
export type { RunOptions } from "./src/run/run_options.ts";
export type { CheckpointStore } from "./src/history/checkpoint.ts";
export type {
  ClusterRecord,
  CompleteRunRecord,
  FinalRecord,
  HistoryFileRecord,
  RunRecord,
  RunStatus,
  TrajectoryRecord,
} from "./src/hypothesis/types.ts";
export { isComplete, RECORD_FORMAT } from "./src/hypothesis/types.ts";
export {
  RUN_IDENTITY_FORMAT,
  type RunIdentity,
} from "./src/hypothesis/run_key.ts";
export { readRecord, RecordError, recordsOf } from "./src/history/records.ts";
export { readOutcomes, type RecordedOutcome } from "./src/verdict/outcomes.ts";
export { verdictOf } from "./src/verdict/verdict.ts";
export { DivergedError, type Divergence } from "./src/runtime/divergence.ts";

// The engine: corpus, one compiled training step, training on a backend.
export {
  type Corpus,
  CorpusError,
  type CorpusErrorCode,
  type CorpusFilter,
  type CorpusOptions,
  loadCorpus,
} from "./src/data/corpus.ts";
export {
  type CompiledStep,
  compileStep,
  type DecayPolicy,
  type ParamSlot,
  type Precision,
  type StepConfig,
  type TensorSpec,
} from "./src/step/step.ts";
export type { HostStreamsSnapshot } from "./src/step/host_streams.ts";
export type { Rounding } from "./src/step/stochastic_rounding.ts";
export type { Pcg32Snapshot, U64 } from "./src/data/rng.ts";
export type { FlatState } from "./src/runtime/runner.ts";
export { stepConfigOf } from "./src/step/config.ts";
export {
  type ReplicateHooks,
  type StepInfo,
  train,
  type TrainerCheckpoint,
  type TrainOptions,
  type TrainResult,
} from "./src/runtime/trainer.ts";
export type { BackendChoice } from "./src/runtime/backend.ts";
// The engine interface is public because TrainOptions can take a backend
// already selected (its adapter probed once for many runs).
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
export type { AdapterInfo } from "./src/runtime/webgpu_probe.ts";
export { roundArrayToBf16, roundToBf16 } from "./src/data/bf16.ts";

// The graph compiler under the step: IR, autodiff, vmap, ONNX lowering and a
// float64 reference interpreter.
export {
  Builder,
  type CustomGradient,
  type GraphOutput,
  type MatMulOptions,
} from "./src/graph/builder.ts";
export type { VjpBuilder } from "./src/graph/op.ts";
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

// Black holes in any matrix, the census of checkpoints on disk, safetensors.
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
export {
  type CensusCluster,
  CensusError,
  type CensusOptions,
  type CensusReport,
  runCensus,
  type TensorCensus,
  type Tying,
} from "./src/census/census.ts";
export type { CensusErrorCode } from "./src/census/census_error.ts";
export type { StreamingOptions } from "./src/census/scan.ts";
// The census options and results of GGUF storage, the hub path and near-identical rows.
export type { GgufStorage } from "./src/census/gguf/types.ts";
export type { FetchProgress } from "./src/census/hub/remote_file.ts";
export type { HubOptions, HubProgress } from "./src/census/hub/weights.ts";
export type {
  IndicatorCensus,
  IndicatorCensusRow,
  IndicatorRequest,
  NearCensus,
  NearCensusCluster,
} from "./src/census/near/extras.ts";
export type { IndicatorRow, Indicators } from "./src/census/near/indicators.ts";
export type {
  NearCluster,
  NearReport,
  NearTolerance,
} from "./src/census/near/near_rows.ts";
export {
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
  type TensorData,
  type TensorInfo,
  writeSafetensors,
  type WriteSafetensorsOptions,
} from "./src/io/safetensors/mod.ts";
export { CodedError } from "./src/errors/coded_error.ts";
