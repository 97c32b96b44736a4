/**
 * A run's identity: exactly what determines its numbers, and nothing else.
 *
 * - the canonical config (validated first; NaN and Infinity are rejected, so
 *   no two configs serialise alike) and the number of steps run;
 * - the corpus bytes' SHA-256;
 * - the SHA-256 of the compiled ONNX step graph's bytes (so renaming a
 *   constant or moving a function re-keys nothing, while any change to the
 *   arithmetic does);
 * - a versioned digest of the host-side streams (initial parameters, batch
 *   offsets, per-step scalars, noise);
 * - the backend and the onnxruntime package version it runs on, read from the
 *   installed package;
 * - the analysis version, for everything derived from the history (C, P,
 *   trajectories, verdict, divergence rule).
 *
 * A run trained as one of R replicates of one graph has its solo run's key
 * where the backend computes replicates bit for bit like solo runs
 * (`REPLICATES_MATCH_SOLO`); elsewhere its identity adds `replicas: R` and
 * hashes the replicated graph instead.
 *
 * The cpu backend's thread count is not part of the key: onnxruntime-node's
 * kernels partition work by output blocks and give bit-identical results on
 * 1 and 2 threads (tested in `run_key_test.ts`); the record keeps it as
 * provenance.
 *
 * @module
 */

import { type BackendName, REPLICATES_MATCH_SOLO } from "../runtime/engine.ts";
import { compileReplicatedStep } from "../step/replicated_step.ts";
import {
  canonicalJson,
  sha256Hex,
  stepConfigOf,
  type TrainConfig,
} from "../step/config.ts";
import {
  HOST_STREAMS_VERSION,
  hostStreamsDigest,
} from "../step/host_streams.ts";
import { type CompiledStep, compileStep } from "../step/step.ts";
import { validateTrainConfig } from "../step/validate.ts";

/**
 * Version of everything a record derives from a run's history: black-hole
 * analysis, trajectories, the verdict rule and the divergence rule. Bump it
 * whenever one of them changes what a record says.
 */
export const ANALYSIS_VERSION = 2;

/** Format tag of {@link RunIdentity}. */
export const RUN_IDENTITY_FORMAT = "horizon-run-identity/1";

/** What a run key is the hash of (kept in the record, so a stale key can be explained). */
export interface RunIdentity {
  /** Always {@link RUN_IDENTITY_FORMAT}. */
  readonly format: typeof RUN_IDENTITY_FORMAT;
  /** The effective config (seed and overrides applied). */
  readonly config: TrainConfig;
  /** Number of training steps run. */
  readonly steps: number;
  /** Lower-case hex SHA-256 of the (filtered) corpus bytes. */
  readonly corpusSha256: string;
  /** SHA-256 of the ONNX step graph's bytes. */
  readonly graphSha256: string;
  /** `v<version>:<sha256>` of the host-side streams. */
  readonly hostStreams: string;
  /** Backend the run executes on. */
  readonly backend: BackendName;
  /** e.g. `onnxruntime-node 1.30.0`. */
  readonly onnxruntime: string;
  /** {@link ANALYSIS_VERSION} the record's numbers were derived with. */
  readonly analysis: number;
  /**
   * Replicates trained together in one graph, on a backend where that
   * changes the numbers (absent otherwise, and for a solo run).
   */
  readonly replicas?: number;
}

/** Inputs of {@link runIdentity}. */
export interface RunIdentityInputs {
  /** The effective config to run. */
  readonly config: TrainConfig;
  /** Number of training steps (at most `config.maxSteps`). */
  readonly steps: number;
  /** The corpus: hex SHA-256 and length in bytes of its filtered bytes. */
  readonly corpus: { readonly sha256: string; readonly length: number };
  /** Backend the run executes on. */
  readonly backend: BackendName;
  /** `Engine.runtime` of the backend. */
  readonly onnxruntime: string;
  /** The step graph, when already compiled (else it is compiled here). */
  readonly compiled?: CompiledStep;
  /** Replicates trained together in one graph with this run (default 1). */
  readonly replicas?: number;
}

/**
 * SHA-256 of the replicated step graph, compiled once per step config and R:
 * planning a pack keys each of its R runs with the same graph.
 */
const replicatedGraphs = new Map<string, Promise<string>>();
function replicatedGraphSha256(
  config: TrainConfig,
  replicas: number,
): Promise<string> {
  const step = stepConfigOf(config);
  const id = `${replicas}:${canonicalJson(step)}`;
  let sha = replicatedGraphs.get(id);
  if (!sha) {
    sha = sha256Hex(compileReplicatedStep(step, replicas).onnx);
    replicatedGraphs.set(id, sha);
  }
  return sha;
}

/** SHA-256 (hex) of bytes (re-exported from the config module). */
export { sha256Hex };

/**
 * The identity of a run and its key (SHA-256 of the identity's canonical
 * JSON). Throws a ConfigError for an invalid config, before any work.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEED_RUN } from "../step/config.ts";
 * import { runIdentity } from "./run_key.ts";
 * const inputs = {
 *   config: SEED_RUN,
 *   steps: 300,
 *   corpus: { sha256: "00", length: 265_905 },
 *   backend: "cpu" as const,
 *   onnxruntime: "onnxruntime-node 1.30.0",
 * };
 * const a = await runIdentity(inputs);
 * const b = await runIdentity({ ...inputs, backend: "wasm" });
 * assert.notEqual(a.key, b.key);
 * ```
 */
export async function runIdentity(
  inputs: RunIdentityInputs,
): Promise<{ identity: RunIdentity; key: string; compiled: CompiledStep }> {
  const { config, steps } = inputs;
  validateTrainConfig(config);
  if (!Number.isSafeInteger(steps) || steps < 0 || steps > config.maxSteps) {
    throw new RangeError(
      `steps must be an integer in 0..${config.maxSteps}, got ${steps}`,
    );
  }
  const compiled = inputs.compiled ?? compileStep(stepConfigOf(config));
  const replicas = inputs.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new RangeError(`replicas must be an integer >= 1, got ${replicas}`);
  }
  const packed = replicas > 1 && !REPLICATES_MATCH_SOLO.has(inputs.backend);
  const identity: RunIdentity = {
    format: RUN_IDENTITY_FORMAT,
    config,
    steps,
    corpusSha256: inputs.corpus.sha256,
    graphSha256: packed
      ? await replicatedGraphSha256(config, replicas)
      : await sha256Hex(compiled.onnx),
    hostStreams: `v${HOST_STREAMS_VERSION}:${await hostStreamsDigest(
      config,
      inputs.corpus.length,
      steps,
    )}`,
    backend: inputs.backend,
    onnxruntime: inputs.onnxruntime,
    analysis: ANALYSIS_VERSION,
    ...(packed ? { replicas } : {}),
  };
  const key = await sha256Hex(
    new TextEncoder().encode(canonicalJson(identity)),
  );
  return { identity, key, compiled };
}

/**
 * The fields in which two identities differ (empty: same run), to say why a
 * cached record no longer applies.
 */
export function identityDiff(a: RunIdentity, b: RunIdentity): string[] {
  const fields = Object.keys({ ...a, ...b }) as (keyof RunIdentity)[];
  return fields.filter((f) =>
    canonicalJson(a[f] ?? null) !== canonicalJson(b[f] ?? null)
  ).sort();
}
