/**
 * R replicates of one training step in one graph: the step of
 * {@link compileStep} replicated along a leading axis (see graph/vmap.ts).
 * Every replicate has its own parameters, moments, batch and noise; the step
 * scalars (learning rate, bias corrections) are shared, since replicates
 * that run together run the same schedule in lock step.
 *
 * Graph inputs: `params`, `m`, `v` [R, N], `input_ids`, `targets` int32
 * [R, B, T], `loss_weights` [R, B, T], `noise` [R, ...shape of the noised
 * parameter] when noise is on, and the shared scalars `lr_wd`, `step_size`,
 * `bc2_sqrt`. Outputs: `loss`, `grad_norm` [R] and `new.params`, `new.m`,
 * `new.v` [R, N].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileReplicatedStep } from "./replicated_step.ts";
 * import { seedStepConfig } from "./step.ts";
 * const step = compileReplicatedStep(
 *   seedStepConfig({ batchSize: 2, seqLen: 16 }),
 *   4,
 * );
 * assert.equal(step.replicas, 4);
 * assert.deepEqual(
 *   step.inputs.find((i) => i.name === "params")?.shape,
 *   [4, 116480],
 * );
 * ```
 *
 * @module
 */

import { vmapGraph } from "../graph/vmap.ts";
import { toOnnx } from "../graph/onnx.ts";
import {
  buildStep,
  type CompiledStep,
  type StepConfig,
  type TensorSpec,
} from "./step.ts";

/** Inputs every replicate shares. */
const SHARED_INPUTS: ReadonlySet<string> = new Set([
  "lr_wd",
  "step_size",
  "bc2_sqrt",
]);

/** A compiled step that trains `replicas` models at once. */
export interface ReplicatedStep extends CompiledStep {
  /** Number of replicates R along the leading axis. */
  readonly replicas: number;
}

/** Compiles `replicas` replicates of the training step of `config`. */
export function compileReplicatedStep(
  config: StepConfig,
  replicas: number,
): ReplicatedStep {
  const solo = buildStep(config, "train");
  const names = solo.builder.inputs.map((v) =>
    (v.source as { name: string }).name
  );
  const b = vmapGraph(solo.builder, {
    replicas,
    batched: new Set(names.filter((n) => !SHARED_INPUTS.has(n))),
  });
  const spec = (name: string, v: { shape: readonly number[]; dtype: string }) =>
    ({
      name,
      shape: v.shape,
      dtype: v.dtype === "int32" ? "int32" : "float32",
    }) as TensorSpec;
  return {
    config,
    kind: "train",
    replicas,
    onnx: toOnnx(b, {
      name: "horizon_step_train_replicated",
      doc: JSON.stringify({ kind: "train", replicas, ...config }),
    }),
    params: solo.params,
    totalSize: solo.totalSize,
    inputs: b.inputs.map((v, i) => spec(names[i], v)),
    outputs: b.outputs.map((o) => spec(o.name, o.value)),
    nodeCount: b.nodes.length,
  };
}
