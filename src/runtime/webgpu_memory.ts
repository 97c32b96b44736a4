/**
 * GPU-resident tensors of the `webgpu` engine: disposal, and logs filled by
 * GPU-side copies (`copyBufferToBuffer` into a mappable buffer) and read with
 * one `mapAsync` — the only GPU-to-CPU sync a training window needs. Reading
 * a range this way never touches the source tensor; onnxruntime-web's
 * `getData()` instead downloads all of it and relabels it a CPU tensor, after
 * which the next run uploads it again and `dispose()` no longer frees its
 * GPU buffer.
 *
 * @module
 */

import type { DeviceLog, OrtTensor } from "./engine.ts";
import { checkLogCopy, type TensorMemory } from "./ort_session.ts";

/** A log in a `MAP_READ | COPY_DST` buffer of `device`. */
function gpuLog(device: GPUDevice, capacity: number): DeviceLog {
  const buffer = device.createBuffer({
    size: Math.max(4, capacity * 4),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  return {
    capacity,
    copy(copies) {
      const encoder = device.createCommandEncoder();
      for (const c of copies) {
        checkLogCopy(c, capacity);
        if (c.length === 0) continue;
        if (c.tensor.location === "gpu-buffer") {
          encoder.copyBufferToBuffer(
            c.tensor.gpuBuffer as GPUBuffer,
            c.offset * 4,
            buffer,
            c.at * 4,
            c.length * 4,
          );
        } else {
          // A host tensor of this session: the queue orders it like a copy.
          const data = c.tensor.data as Float32Array<ArrayBuffer>;
          device.queue.writeBuffer(buffer, c.at * 4, data, c.offset, c.length);
        }
      }
      device.queue.submit([encoder.finish()]);
    },
    async read(length) {
      if (!Number.isInteger(length) || length < 0 || length > capacity) {
        throw new RangeError(`cannot read ${length} of ${capacity} elements`);
      }
      if (length === 0) return new Float32Array(0);
      await buffer.mapAsync(GPUMapMode.READ, 0, length * 4);
      try {
        return new Float32Array(buffer.getMappedRange(0, length * 4).slice(0));
      } finally {
        buffer.unmap();
      }
    },
    destroy() {
      buffer.destroy();
    },
  };
}

/**
 * The tensor memory of a WebGPU session on `device` (onnxruntime-web's
 * `env.webgpu.device`).
 */
export function gpuMemory(device: GPUDevice): TensorMemory {
  return {
    deviceResident: true,
    createLog: (capacity) => gpuLog(device, capacity),
    dispose(t: OrtTensor) {
      if (t.location === "gpu-buffer") t.dispose();
    },
  };
}
