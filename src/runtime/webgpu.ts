/**
 * The `webgpu` backend: onnxruntime-web's native WebGPU execution provider.
 * State outputs can stay in GPU buffers between steps (`deviceOutputs`), so a
 * step moves only the batch in and the loss out.
 *
 * @module
 */

import * as ortGpu from "onnxruntime-web/webgpu";
import {
  BackendError,
  type Engine,
  type EngineSession,
  type HostArray,
  type OrtTensor,
} from "./engine.ts";
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
    const deviceOutputs = new Set(options.deviceOutputs ?? []);
    let session: ortGpu.InferenceSession;
    try {
      session = await ortGpu.InferenceSession.create(model, {
        executionProviders: ["webgpu"],
        graphOptimizationLevel: "all",
        preferredOutputLocation: deviceOutputs.size
          ? Object.fromEntries(
            [...deviceOutputs].map((n) => [n, "gpu-buffer" as const]),
          )
          : "cpu",
      });
    } catch (e) {
      throw new BackendError(
        `onnxruntime-web (webgpu) could not load the graph: ${
          (e as Error).message
        }`,
      );
    }
    const s: EngineSession = {
      backend: "webgpu",
      description:
        `onnxruntime-web ${ortGpu.env.versions.web} WebGPU on ${adapter.description}${
          adapter.software ? " (software adapter)" : ""
        }`,
      tensor(data: HostArray, dims: readonly number[]) {
        const type = data instanceof Float32Array ? "float32" : "int32";
        return new ortGpu.Tensor(type, data, dims);
      },
      async run(feeds) {
        return await session.run(feeds);
      },
      async read(t: OrtTensor) {
        return await t.getData() as HostArray;
      },
      async readRange(t: OrtTensor, offset: number, length: number) {
        if (t.location !== "gpu-buffer") {
          return (await t.getData() as Float32Array).slice(
            offset,
            offset + length,
          );
        }
        // getData() on a GPU tensor downloads all of it and relabels it a
        // CPU tensor: the next run uploads it again and dispose() no longer
        // frees its buffer. Copy just the range on the device instead.
        const device = await ortGpu.env.webgpu.device as GPUDevice;
        const bytes = length * 4;
        const staging = device.createBuffer({
          size: bytes,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
        try {
          const encoder = device.createCommandEncoder();
          encoder.copyBufferToBuffer(
            t.gpuBuffer as GPUBuffer,
            offset * 4,
            staging,
            0,
            bytes,
          );
          device.queue.submit([encoder.finish()]);
          await staging.mapAsync(GPUMapMode.READ);
          return new Float32Array(staging.getMappedRange().slice(0));
        } finally {
          staging.destroy();
        }
      },
      dispose(t: OrtTensor) {
        if (t.location === "gpu-buffer") t.dispose();
      },
      async release() {
        await session.release();
      },
    };
    return s;
  },
};
