/**
 * The `cpu` backend: onnxruntime-node's CPU execution provider (native code,
 * the fastest engine on machines without a GPU).
 *
 * @module
 */

import * as ortNode from "onnxruntime-node";
import {
  BackendError,
  type Engine,
  type EngineSession,
  type HostArray,
  type OrtTensor,
} from "./engine.ts";

/** Read from the installed package, never written down by hand. */
const VERSION = ortNode.env.versions.node ?? ortNode.env.versions.common;

/** The onnxruntime-node CPU engine. */
export const cpuEngine: Engine = {
  name: "cpu",
  runtime: `onnxruntime-node ${VERSION}`,
  async load(model, options = {}) {
    const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
    let session: ortNode.InferenceSession;
    try {
      session = await ortNode.InferenceSession.create(model, {
        executionProviders: ["cpu"],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
      });
    } catch (e) {
      throw new BackendError(
        `onnxruntime-node could not load the graph: ${(e as Error).message}`,
      );
    }
    const s: EngineSession = {
      backend: "cpu",
      description: `onnxruntime-node ${VERSION} CPU (${threads} threads)`,
      tensor(data: HostArray, dims: readonly number[]) {
        const type = data instanceof Float32Array ? "float32" : "int32";
        return new ortNode.Tensor(type, data, dims) as unknown as OrtTensor;
      },
      async run(feeds) {
        return await session.run(
          feeds as unknown as ortNode.InferenceSession.FeedsType,
        ) as unknown as Record<string, OrtTensor>;
      },
      read(t) {
        return Promise.resolve(t.data as HostArray);
      },
      async readRange(t, offset, length) {
        const all = await s.read(t) as Float32Array;
        return all.slice(offset, offset + length);
      },
      dispose() {},
      async release() {
        await session.release();
      },
    };
    return s;
  },
};
