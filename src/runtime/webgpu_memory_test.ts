// GPU memory and syncs of WebGPU training, counted by wrapping the WebGPU
// methods (gpu_counters.ts): over many steps the bytes of live GPU buffers
// must not grow once the first read window is done, and a read window of K
// steps must cost exactly one GPU-to-CPU sync. Runs when an adapter exists
// (lavapipe here: a tiny config, so 120 steps take 25-50 s).

import assert from "node:assert/strict";
import { TINY_RUN, webgpuForTests } from "../testing/helpers.ts";
import type { TrainConfig } from "../step/config.ts";
import * as ortGpu from "onnxruntime-web/webgpu";
import type { OrtTensor } from "./engine.ts";
import { type GpuCounts, startGpuCounters } from "./gpu_counters.ts";
import { train } from "./trainer.ts";
import { gpuMemory } from "./webgpu_memory.ts";

const TINY: TrainConfig = TINY_RUN;
const hasGpu = await webgpuForTests();

Deno.test({
  name:
    "webgpu: GPU memory is flat over 120 steps and a read window of 20 steps is one sync",
  ignore: !hasGpu,
  fn: async () => {
    const corpus = new TextEncoder().encode("the quick brown fox ".repeat(50));
    const K = 20, STEPS = 120;
    const counters = startGpuCounters()!;
    const windows: [number, GpuCounts][] = [];
    let snapshots = 0;
    try {
      await train(TINY, corpus, {
        backend: "webgpu",
        steps: STEPS,
        readEvery: K,
        // As the experiments record it: the embedding after every step.
        embeddingEvery: 1,
        onEmbedding: () => {
          snapshots++;
        },
        onStep: ({ step }) => {
          if (step % K === 0) windows.push([step, counters.read()]);
        },
      });
    } finally {
      counters.stop();
    }
    assert.equal(snapshots, STEPS + 1);
    assert.deepEqual(
      windows.map(([s]) => s),
      [20, 40, 60, 80, 100, 120],
    );
    const [, first] = windows[0];
    const growth = windows.map(([s, c]) =>
      `${s}: ${c.liveBytes - first.liveBytes}`
    );
    console.log(
      `live GPU bytes after step ${K}: ${first.liveBytes}; growth since: ${
        growth.join(", ")
      }`,
    );
    for (const [step, c] of windows) {
      assert.equal(
        c.liveBytes,
        first.liveBytes,
        `live GPU buffers grew by ${
          c.liveBytes - first.liveBytes
        } bytes between step ${K} and ${step}`,
      );
    }
    for (let i = 1; i < windows.length; i++) {
      const [step, c] = windows[i], [, p] = windows[i - 1];
      assert.equal(
        c.syncs - p.syncs,
        1,
        `syncs in the window ending at ${step}`,
      );
      assert.ok(
        c.dispatches - p.dispatches >= K,
        "the counters see dispatches",
      );
      // One window: K losses, K gradient norms and K embeddings come down.
      assert.equal(c.bytesDown - p.bytesDown, 4 * K * (2 + 128 * 64));
    }
  },
});

Deno.test({
  name:
    "webgpu: a GPU log holds ranges of GPU and host tensors, read in one sync",
  ignore: !hasGpu,
  fn: async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    const values = Float32Array.from({ length: 64 }, (_, i) => i + 0.5);
    const buffer = device.createBuffer({
      size: values.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
        GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, values);
    const onGpu = ortGpu.Tensor.fromGpuBuffer(buffer, {
      dataType: "float32",
      dims: [64],
    }) as unknown as OrtTensor;
    const onHost = new ortGpu.Tensor(
      "float32",
      Float32Array.from([7, 8, 9]),
      [3],
    ) as unknown as OrtTensor;
    const memory = gpuMemory(device);
    assert.equal(memory.deviceResident, true);
    const log = memory.createLog(8);
    const counters = startGpuCounters()!;
    try {
      log.copy([
        { tensor: onGpu, offset: 10, length: 3, at: 0 },
        { tensor: onHost, offset: 1, length: 2, at: 3 },
      ]);
      log.copy([{ tensor: onGpu, offset: 63, length: 1, at: 5 }]);
      // Overwriting the source after the copy does not change the log.
      device.queue.writeBuffer(buffer, 0, new Float32Array(64));
      assert.deepEqual(
        Array.from(await log.read(6)),
        [10.5, 11.5, 12.5, 8, 9, 63.5],
      );
      assert.equal(counters.read().syncs, 1);
      assert.throws(
        () => log.copy([{ tensor: onGpu, offset: 60, length: 5, at: 0 }]),
        RangeError,
      );
      assert.throws(
        () => log.copy([{ tensor: onGpu, offset: 0, length: 4, at: 5 }]),
        RangeError,
      );
      await assert.rejects(() => log.read(9), RangeError);
      // Read again after more copies: the log is reusable.
      log.copy([{ tensor: onHost, offset: 0, length: 1, at: 0 }]);
      assert.deepEqual(Array.from(await log.read(1)), [7]);
    } finally {
      counters.stop();
      log.destroy();
      buffer.destroy();
      device.destroy();
    }
  },
});
