// The WebGPU counters count exactly what a known workload does, and stopping
// them puts the original methods back. Runs when an adapter exists.

import assert from "node:assert/strict";
import { webgpuForTests } from "../testing/helpers.ts";
import { perStep, startGpuCounters } from "./gpu_counters.ts";

const hasGpu = await webgpuForTests();

Deno.test({
  name: "gpu counters: dispatches, bytes up and down, syncs and live bytes",
  ignore: !hasGpu,
  fn: async () => {
    const device = await (await navigator.gpu.requestAdapter())!
      .requestDevice();
    const original = GPUDevice.prototype.createBuffer;
    const counters = startGpuCounters()!;
    const nested = startGpuCounters()!;
    try {
      assert.notEqual(GPUDevice.prototype.createBuffer, original);
      const data = device.createBuffer({
        size: 256,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
          GPUBufferUsage.COPY_DST,
      });
      // Typed arrays: offset and size in elements (8 floats = 32 bytes).
      device.queue.writeBuffer(data, 0, new Float32Array(64), 16, 8);
      // ArrayBuffers: in bytes.
      device.queue.writeBuffer(data, 64, new ArrayBuffer(40), 8);
      const staged = device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.COPY_SRC,
        mappedAtCreation: true,
      });
      staged.unmap();
      const module = device.createShaderModule({
        code: `@group(0) @binding(0) var<storage, read_write> x: array<f32>;
          @compute @workgroup_size(1) fn main() { x[0] = x[0] + 1.0; }`,
      });
      const pipeline = device.createComputePipeline({
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      const bind = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: data } }],
      });
      const read = device.createBuffer({
        size: 64,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(1);
      pass.dispatchWorkgroups(1);
      pass.end();
      encoder.copyBufferToBuffer(data, 0, read, 0, 64);
      device.queue.submit([encoder.finish()]);
      await read.mapAsync(GPUMapMode.READ, 0, 32);
      assert.equal(new Float32Array(read.getMappedRange(0, 32))[0], 2);
      read.unmap();
      await device.queue.onSubmittedWorkDone();
      const c = counters.read();
      assert.deepEqual(c, {
        dispatches: 2,
        submits: 1,
        bytesUp: 32 + 32 + 16,
        bytesDown: 32,
        syncs: 2,
        buffersCreated: 3,
        liveBytes: 256 + 16 + 64,
      });
      data.destroy();
      data.destroy(); // twice is legal and counted once
      staged.destroy();
      read.destroy();
      assert.equal(counters.read().liveBytes, 0);
      assert.equal(perStep(c, counters.read(), 2).liveBytes, -168);
      nested.stop();
      // Still counting while one handle is running.
      assert.notEqual(GPUDevice.prototype.createBuffer, original);
    } finally {
      nested.stop();
      counters.stop();
      device.destroy();
    }
    assert.equal(GPUDevice.prototype.createBuffer, original);
  },
});
