/**
 * The one onnxruntime session adapter behind the `cpu`, `wasm` and `webgpu`
 * engines. onnxruntime-node and onnxruntime-web share their session and
 * tensor API, so an engine only says which package, which session options
 * and where its tensors live ({@linkcode TensorMemory}: host arrays here,
 * GPU buffers in `webgpu_memory.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ortWeb from "onnxruntime-web";
 * import { Builder } from "../graph/builder.ts";
 * import { toOnnx } from "../graph/onnx.ts";
 * import { openOrtSession, type OrtApi } from "./ort_session.ts";
 * const b = new Builder(); // y = x * x
 * const x = b.input("x", [2]);
 * b.output("y", b.mul(x, x));
 * ortWeb.env.wasm.numThreads = 1;
 * const session = await openOrtSession(toOnnx(b, { name: "square" }), {
 *   backend: "wasm",
 *   name: "onnxruntime-web (wasm)",
 *   description: "onnxruntime-web wasm (1 thread)",
 *   ort: ortWeb as unknown as OrtApi,
 *   options: { executionProviders: ["wasm"] },
 * });
 * try {
 *   const { y } = await session.run({
 *     x: session.tensor(new Float32Array([2, 3]), [2]),
 *   });
 *   assert.deepEqual(await session.read(y), new Float32Array([4, 9]));
 * } finally {
 *   await session.release();
 * }
 * ```
 *
 * @module
 */

import {
  BackendError,
  type BackendName,
  type DeviceLog,
  type EngineSession,
  type HostArray,
  type LogCopy,
  type OrtTensor,
} from "./engine.ts";

/** An onnxruntime inference session, as both packages expose it. */
export interface OrtInferenceSession {
  /** Runs the graph. */
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  /** Frees the session. */
  release(): Promise<void>;
}

/** The part of an onnxruntime package the adapter uses. */
export interface OrtApi {
  /** Session factory. */
  readonly InferenceSession: {
    create(
      model: Uint8Array,
      options: Record<string, unknown>,
    ): Promise<OrtInferenceSession>;
  };
  /** Tensor constructor. */
  readonly Tensor: new (
    type: "float32" | "int32",
    data: HostArray,
    dims: readonly number[],
  ) => OrtTensor;
}

/** Where a session's tensors live: the backend-specific part of a session. */
export interface TensorMemory {
  /** See {@linkcode EngineSession.deviceResident}. */
  readonly deviceResident: boolean;
  /** A log of `capacity` float32 elements. */
  createLog(capacity: number): DeviceLog;
  /** Frees a tensor's device memory (no-op for host tensors). */
  dispose(t: OrtTensor): void;
}

/** What an engine tells the adapter. */
export interface OrtSessionSpec {
  /** Backend name. */
  readonly backend: BackendName;
  /** Package and provider, for load errors (e.g. `onnxruntime-web (wasm)`). */
  readonly name: string;
  /** Provenance line (see {@linkcode EngineSession.description}). */
  readonly description: string;
  /** The onnxruntime package. */
  readonly ort: OrtApi;
  /** Session options passed to `InferenceSession.create`. */
  readonly options: Record<string, unknown>;
  /**
   * Where tensors live, resolved once the session exists (WebGPU's device is
   * created with the first session). Default: {@linkcode hostMemory}.
   */
  readonly memory?: () => Promise<TensorMemory>;
}

function hostData(t: OrtTensor): Float32Array {
  const data = t.data;
  if (!(data instanceof Float32Array)) {
    throw new TypeError(`expected a float32 host tensor, got ${t.type}`);
  }
  return data;
}

/**
 * Checks one log copy against its tensor and a log of `capacity` elements;
 * every {@linkcode DeviceLog} calls it before copying.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkLogCopy } from "./ort_session.ts";
 * const tensor = { size: 4 } as never;
 * checkLogCopy({ tensor, offset: 1, length: 3, at: 0 }, 3);
 * assert.throws(() => checkLogCopy({ tensor, offset: 2, length: 3, at: 0 }, 8));
 * ```
 */
export function checkLogCopy(c: LogCopy, capacity: number): void {
  if (
    !Number.isInteger(c.offset) || !Number.isInteger(c.length) ||
    !Number.isInteger(c.at) || c.offset < 0 || c.length < 0 || c.at < 0 ||
    c.offset + c.length > c.tensor.size || c.at + c.length > capacity
  ) {
    throw new RangeError(
      `log copy of ${c.length} elements from ${c.offset} (of ${c.tensor.size}) to ${c.at} (of ${capacity}) is out of range`,
    );
  }
}

/** Host-memory tensors (onnxruntime-node CPU, onnxruntime-web wasm). */
export const hostMemory: TensorMemory = {
  deviceResident: false,
  createLog(capacity: number): DeviceLog {
    const values = new Float32Array(capacity);
    return {
      capacity,
      copy(copies) {
        for (const c of copies) {
          checkLogCopy(c, capacity);
          values.set(
            hostData(c.tensor).subarray(c.offset, c.offset + c.length),
            c.at,
          );
        }
      },
      read(length) {
        return Promise.resolve(values.slice(0, length));
      },
      destroy() {},
    };
  },
  dispose() {},
};

/**
 * Loads `model` on the onnxruntime package and options of `spec`; load
 * failures become {@linkcode BackendError}s naming the package.
 */
export async function openOrtSession(
  model: Uint8Array,
  spec: OrtSessionSpec,
): Promise<EngineSession> {
  let session: OrtInferenceSession;
  try {
    session = await spec.ort.InferenceSession.create(model, spec.options);
  } catch (e) {
    throw new BackendError(
      `${spec.name} could not load the graph: ${(e as Error).message}`,
    );
  }
  let memory: TensorMemory;
  try {
    memory = spec.memory ? await spec.memory() : hostMemory;
  } catch (e) {
    await session.release();
    throw e;
  }
  const readRange = async (t: OrtTensor, offset: number, length: number) => {
    const log = memory.createLog(length);
    try {
      log.copy([{ tensor: t, offset, length, at: 0 }]);
      return await log.read(length);
    } finally {
      log.destroy();
    }
  };
  return {
    backend: spec.backend,
    description: spec.description,
    deviceResident: memory.deviceResident,
    tensor(data, dims) {
      const type = data instanceof Float32Array ? "float32" : "int32";
      return new spec.ort.Tensor(type, data, dims);
    },
    run(feeds) {
      return session.run(feeds);
    },
    async read(t) {
      if (t.location === "gpu-buffer") {
        // Never getData(): it downloads the tensor and relabels it a CPU
        // tensor whose GPU buffer dispose() no longer frees.
        if (t.type === "float32") return await readRange(t, 0, t.size);
        throw new TypeError(`cannot read a ${t.type} GPU tensor`);
      }
      return t.data as HostArray;
    },
    readRange,
    createLog(capacity) {
      return memory.createLog(capacity);
    },
    dispose(t) {
      memory.dispose(t);
    },
    async release() {
      await session.release();
    },
  };
}
