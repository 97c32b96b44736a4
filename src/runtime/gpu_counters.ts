/**
 * Counts what a process asks of its WebGPU device, by wrapping the WebGPU
 * methods onnxruntime-web (and horizon) call: compute dispatches, queue
 * submits, bytes uploaded (`queue.writeBuffer`, buffers mapped at creation),
 * bytes downloaded (`mapAsync` for reading), GPU-to-CPU syncs (`mapAsync`,
 * `onSubmittedWorkDone`) and the bytes of GPU buffers alive (created minus
 * destroyed). The wrappers sit on the WebGPU prototypes, so they see every
 * device of the process, whoever created it; they cost one counter update per
 * call and are removed when the last {@linkcode GpuCounters} stops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perStep, startGpuCounters } from "./gpu_counters.ts";
 * import { probeAdapter } from "./webgpu_probe.ts";
 * // Needs a WebGPU adapter (HORIZON_SKIP_WEBGPU=1 skips it, as in the tests).
 * if (!Deno.env.get("HORIZON_SKIP_WEBGPU") && await probeAdapter()) {
 *   const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
 *   const counters = startGpuCounters()!;
 *   try {
 *     const before = counters.read();
 *     for (let step = 0; step < 2; step++) { // two "steps", one upload each
 *       const buffer = device.createBuffer({ size: 64, usage: GPUBufferUsage.COPY_DST });
 *       device.queue.writeBuffer(buffer, 0, new Float32Array(16));
 *       buffer.destroy();
 *     }
 *     const per = perStep(before, counters.read(), 2);
 *     assert.equal(per.buffersCreated, 1);
 *     assert.equal(per.bytesUp, 64);
 *     assert.equal(per.liveBytes, 0); // every buffer was destroyed
 *   } finally {
 *     counters.stop();
 *     device.destroy();
 *   }
 * }
 * ```
 *
 * @module
 */

/** Totals since the counters started (`liveBytes`: alive now). */
export interface GpuCounts {
  /** `dispatchWorkgroups` and `dispatchWorkgroupsIndirect` calls. */
  readonly dispatches: number;
  /** `queue.submit` calls. */
  readonly submits: number;
  /** Bytes written by `queue.writeBuffer` or into buffers mapped at creation. */
  readonly bytesUp: number;
  /** Bytes of buffer ranges mapped for reading. */
  readonly bytesDown: number;
  /** Waits for the GPU: `mapAsync` and `queue.onSubmittedWorkDone` calls. */
  readonly syncs: number;
  /** Buffers created. */
  readonly buffersCreated: number;
  /**
   * Bytes of the buffers created since the counters were installed that are
   * not destroyed yet (a buffer dropped without `destroy()` stays counted).
   */
  readonly liveBytes: number;
}

/** A handle on the process-wide counters. */
export interface GpuCounters {
  /** The totals now, counted from this handle's start. */
  read(): GpuCounts;
  /** Stops this handle; the last one to stop removes the wrappers. */
  stop(): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const totals: Mutable<GpuCounts> = {
  dispatches: 0,
  submits: 0,
  bytesUp: 0,
  bytesDown: 0,
  syncs: 0,
  buffersCreated: 0,
  liveBytes: 0,
};
/** Sizes of the buffers created under the wrappers and not yet destroyed. */
let alive = new WeakMap<object, number>();
let handles = 0;
const restore: (() => void)[] = [];

// deno-lint-ignore no-explicit-any
type AnyFn = (this: any, ...args: any[]) => any;

/** Replaces `proto[name]` by a call of the original, then `count`. */
function wrap(
  proto: object | undefined,
  name: string,
  // deno-lint-ignore no-explicit-any
  count: (self: any, args: any[], result: any) => void,
): void {
  if (!proto) return;
  const target = proto as Record<string, AnyFn>;
  const original = target[name];
  if (typeof original !== "function") return;
  target[name] = function (this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args);
    count(this, args, result);
    return result;
  };
  restore.push(() => {
    target[name] = original;
  });
}

/** Bytes `queue.writeBuffer(buffer, at, data, offset, size)` writes. */
function writtenBytes(
  data: ArrayBuffer | ArrayBufferView,
  offset = 0,
  size?: number,
): number {
  if (!ArrayBuffer.isView(data)) return size ?? data.byteLength - offset;
  // Typed arrays count offset and size in elements, DataViews in bytes.
  const element = (data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ??
    1;
  return (size ?? data.byteLength / element - offset) * element;
}

function install(): void {
  const g = globalThis as unknown as Record<
    string,
    { prototype: object } | undefined
  >;
  wrap(g.GPUDevice?.prototype, "createBuffer", (_self, [desc], buffer) => {
    totals.buffersCreated++;
    if (desc?.mappedAtCreation) totals.bytesUp += buffer.size;
    alive.set(buffer, buffer.size);
    totals.liveBytes += buffer.size;
  });
  wrap(g.GPUBuffer?.prototype, "destroy", (self) => {
    const size = alive.get(self);
    if (size !== undefined) {
      alive.delete(self);
      totals.liveBytes -= size;
    }
  });
  wrap(g.GPUBuffer?.prototype, "mapAsync", (self, [mode, offset, size]) => {
    totals.syncs++;
    if (mode & 1 /* GPUMapMode.READ */) {
      totals.bytesDown += size ?? self.size - (offset ?? 0);
    }
  });
  wrap(g.GPUQueue?.prototype, "onSubmittedWorkDone", () => {
    totals.syncs++;
  });
  wrap(g.GPUQueue?.prototype, "submit", () => {
    totals.submits++;
  });
  wrap(
    g.GPUQueue?.prototype,
    "writeBuffer",
    (_self, [, , data, offset, size]) => {
      totals.bytesUp += writtenBytes(data, offset, size);
    },
  );
  for (const name of ["dispatchWorkgroups", "dispatchWorkgroupsIndirect"]) {
    wrap(g.GPUComputePassEncoder?.prototype, name, () => {
      totals.dispatches++;
    });
  }
}

/**
 * Starts counting (installing the wrappers if no other handle has); null
 * where this runtime has no WebGPU.
 */
export function startGpuCounters(): GpuCounters | null {
  if (!("GPUDevice" in globalThis)) return null;
  if (handles++ === 0) {
    for (const k of Object.keys(totals) as (keyof GpuCounts)[]) totals[k] = 0;
    alive = new WeakMap();
    install();
  }
  const base = { ...totals };
  let stopped = false;
  return {
    read() {
      const now = { ...totals };
      for (const k of Object.keys(now) as (keyof GpuCounts)[]) {
        if (k !== "liveBytes") now[k] -= base[k];
      }
      return now;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (--handles === 0) {
        while (restore.length) restore.pop()!();
      }
    },
  };
}

/**
 * Per-step rates between two readings (`liveBytes` becomes the growth per
 * step).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perStep } from "./gpu_counters.ts";
 * const zero = {
 *   dispatches: 0, submits: 0, bytesUp: 0, bytesDown: 0, syncs: 0,
 *   buffersCreated: 0, liveBytes: 4096,
 * };
 * const after = { ...zero, dispatches: 1028, syncs: 1, liveBytes: 4096 };
 * const per = perStep(zero, after, 2);
 * assert.equal(per.dispatches, 514);
 * assert.equal(per.syncs, 0.5);
 * assert.equal(per.liveBytes, 0);
 * ```
 */
export function perStep(
  before: GpuCounts,
  after: GpuCounts,
  steps: number,
): GpuCounts {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof GpuCounts)[]) {
    out[k] = (after[k] - before[k]) / steps;
  }
  return out;
}
