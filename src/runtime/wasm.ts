/**
 * The `wasm` backend: onnxruntime-web's WebAssembly execution provider, the
 * portable fallback. Single-threaded: ORT's worker threads start from a blob:
 * URL, which Deno refuses.
 *
 * @module
 */

import * as ortWeb from "onnxruntime-web";
import {
  BackendError,
  type Engine,
  type EngineSession,
  type HostArray,
} from "./engine.ts";

/** The onnxruntime-web wasm engine. */
export const wasmEngine: Engine = {
  name: "wasm",
  runtime: `onnxruntime-web ${ortWeb.env.versions.web}`,
  async load(model) {
    ortWeb.env.wasm.numThreads = 1;
    ortWeb.env.logLevel = "error";
    let session: ortWeb.InferenceSession;
    try {
      session = await ortWeb.InferenceSession.create(model, {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
      });
    } catch (e) {
      throw new BackendError(
        `onnxruntime-web (wasm) could not load the graph: ${
          (e as Error).message
        }`,
      );
    }
    const s: EngineSession = {
      backend: "wasm",
      description: `onnxruntime-web ${ortWeb.env.versions.web} wasm (1 thread)`,
      tensor(data: HostArray, dims: readonly number[]) {
        const type = data instanceof Float32Array ? "float32" : "int32";
        return new ortWeb.Tensor(type, data, dims);
      },
      async run(feeds) {
        return await session.run(feeds);
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
