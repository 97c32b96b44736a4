/**
 * The common face of the three onnxruntime engines horizon runs graphs on.
 *
 * @module
 */

import type * as ort from "onnxruntime-web";

/** Names of the execution backends. */
export type BackendName = "cpu" | "wasm" | "webgpu";

/** Every backend name, in auto-selection preference order on a GPU machine. */
export const BACKENDS: readonly BackendName[] = ["webgpu", "cpu", "wasm"];

/**
 * Backends on which every replicate of a replicated step graph (see
 * step/replicated_step.ts) computes bit for bit what its solo run computes:
 * proven by runtime/replicates_test.ts at the seeds' size. On WebGPU the
 * replicates are only float32-close (lavapipe: losses one ulp apart at some
 * steps), so there a packed run's key names its replicate count.
 */
export const REPLICATES_MATCH_SOLO: ReadonlySet<BackendName> = new Set([
  "cpu",
  "wasm",
]);

/** An onnxruntime tensor (the node and web packages share this shape). */
export type OrtTensor = ort.Tensor;

/** Element types fed to or read from a session. */
export type HostArray = Float32Array | Int32Array;

/** Options for creating a session. */
export interface SessionOptions {
  /**
   * Outputs to keep on the device between runs (WebGPU: GPU buffers). Other
   * outputs come back to the host. Ignored by CPU-memory backends.
   */
  deviceOutputs?: readonly string[];
  /** Number of intra-op threads (cpu backend). */
  threads?: number;
}

/** One copy into a {@linkcode DeviceLog}: `length` float32 elements. */
export interface LogCopy {
  /** A 1-D float32 tensor of this session (an output, usually). */
  readonly tensor: OrtTensor;
  /** First element of `tensor` to copy. */
  readonly offset: number;
  /** Number of elements to copy. */
  readonly length: number;
  /** Where in the log they go (element index). */
  readonly at: number;
}

/**
 * A float32 buffer next to a session's tensors that ranges of tensors are
 * copied into without leaving the device, then read to the host in one
 * transfer: on WebGPU a mappable GPU buffer filled by GPU-side copies (one
 * GPU->CPU sync per {@linkcode DeviceLog.read}), on the CPU engines a host
 * array.
 */
export interface DeviceLog {
  /** Size in float32 elements. */
  readonly capacity: number;
  /**
   * Queues `copies` (on WebGPU: one command buffer, submitted before this
   * returns, so the source tensors may be disposed or overwritten by the
   * next run right after).
   */
  copy(copies: readonly LogCopy[]): void;
  /** Reads elements `[0, length)` to the host (a fresh array). */
  read(length: number): Promise<Float32Array>;
  /** Frees the log's memory. */
  destroy(): void;
}

/** One loaded graph on one engine. */
export interface EngineSession {
  /** Which engine runs it. */
  readonly backend: BackendName;
  /** Engine and adapter, for provenance (e.g. "onnxruntime-node 1.30.0 CPU"). */
  readonly description: string;
  /**
   * True when `deviceOutputs` stay in device memory, so that every read is a
   * device-to-host sync (WebGPU); false when tensors are host arrays and
   * reading them is free.
   */
  readonly deviceResident: boolean;
  /** Wraps host data as a tensor this engine accepts. */
  tensor(data: HostArray, dims: readonly number[]): OrtTensor;
  /** Runs the graph; returns every output by name. */
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  /** Copies a tensor's contents to the host. */
  read(t: OrtTensor): Promise<HostArray>;
  /**
   * Copies `length` float32 elements from `offset` of a 1-D float32 tensor
   * to the host, leaving the tensor where it is (on WebGPU: a GPU-side copy
   * of just that range, never a download of the whole buffer).
   */
  readRange(
    t: OrtTensor,
    offset: number,
    length: number,
  ): Promise<Float32Array>;
  /** A log of `capacity` float32 elements (see {@linkcode DeviceLog}). */
  createLog(capacity: number): DeviceLog;
  /** Frees a tensor's device memory (no-op for host tensors). */
  dispose(t: OrtTensor): void;
  /** Frees the session. */
  release(): Promise<void>;
}

/** An engine that can load graphs. */
export interface Engine {
  /** Which backend this engine is. */
  readonly name: BackendName;
  /**
   * The onnxruntime package and version this engine runs on, read from the
   * installed package (e.g. `onnxruntime-node 1.30.0`); part of a run's key.
   */
  readonly runtime: string;
  /** Loads ONNX bytes into a session. */
  load(model: Uint8Array, options?: SessionOptions): Promise<EngineSession>;
}

/** Raised when a backend is unavailable or fails to load a graph. */
export class BackendError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "BackendError";
}
