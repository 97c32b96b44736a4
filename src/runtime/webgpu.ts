/**
 * The `webgpu` backend: onnxruntime-web's native WebGPU execution provider.
 * Outputs named in `deviceOutputs` stay in GPU buffers between steps, so a
 * step moves only the batch in; what the host needs comes back through GPU
 * logs (`webgpu_memory.ts`), read once every few steps.
 *
 * @module
 */

import * as ortGpu from "onnxruntime-web/webgpu";
import { BackendError, type Engine } from "./engine.ts";
import { openOrtSession, type OrtApi } from "./ort_session.ts";
import { gpuMemory } from "./webgpu_memory.ts";
import { probeAdapter } from "./webgpu_probe.ts";

/** The onnxruntime-web WebGPU engine. */
export const webgpuEngine: Engine = {
  name: "webgpu",
  runtime: `onnxruntime-web ${ortGpu.env.versions.web}`,
  async load(model, options = {}) {
    const adapter = await probeAdapter();
    if (!adapter) {
      throw new BackendError("WebGPU is not available (no adapter found)");
    }
    ortGpu.env.wasm.numThreads = 1;
    ortGpu.env.logLevel = "error";
    const deviceOutputs = options.deviceOutputs ?? [];
    return await openOrtSession(model, {
      backend: "webgpu",
      name: "onnxruntime-web (webgpu)",
      description:
        `onnxruntime-web ${ortGpu.env.versions.web} WebGPU on ${adapter.description}${
          adapter.software ? " (software adapter)" : ""
        }`,
      ort: ortGpu as unknown as OrtApi,
      options: {
        executionProviders: ["webgpu"],
        graphOptimizationLevel: "all",
        preferredOutputLocation: deviceOutputs.length
          ? Object.fromEntries(
            deviceOutputs.map((n) => [n, "gpu-buffer" as const]),
          )
          : "cpu",
      },
      memory: async () =>
        gpuMemory(await ortGpu.env.webgpu.device as GPUDevice),
    });
  },
};
