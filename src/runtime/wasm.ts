/**
 * The `wasm` backend: onnxruntime-web's WebAssembly execution provider, the
 * portable fallback. Single-threaded: ORT's worker threads start from a blob:
 * URL, which Deno refuses.
 *
 * @module
 */

import * as ortWeb from "onnxruntime-web";
import type { Engine } from "./engine.ts";
import { openOrtSession, type OrtApi } from "./ort_session.ts";

/** The onnxruntime-web wasm engine. */
export const wasmEngine: Engine = {
  name: "wasm",
  runtime: `onnxruntime-web ${ortWeb.env.versions.web}`,
  load(model) {
    ortWeb.env.wasm.numThreads = 1;
    ortWeb.env.logLevel = "error";
    return openOrtSession(model, {
      backend: "wasm",
      name: "onnxruntime-web (wasm)",
      description: `onnxruntime-web ${ortWeb.env.versions.web} wasm (1 thread)`,
      ort: ortWeb as unknown as OrtApi,
      options: {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
      },
    });
  },
};
