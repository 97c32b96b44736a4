/**
 * Backend selection. Engines are imported lazily so that a machine without
 * onnxruntime-node's native library (or without WebGPU) can still use the
 * others.
 *
 * @module
 */

import {
  BackendError,
  type BackendName,
  BACKENDS,
  type Engine,
} from "./engine.ts";
import { type AdapterInfo, probeAdapter } from "./webgpu_probe.ts";

/** What was chosen and why. */
export interface BackendChoice {
  /** The loaded engine. */
  readonly engine: Engine;
  /** One line for logs and reports. */
  readonly reason: string;
  /** The WebGPU adapter, when one was probed. */
  readonly adapter: AdapterInfo | null;
}

/** Loads one engine by name. */
export async function loadEngine(name: BackendName): Promise<Engine> {
  switch (name) {
    case "cpu":
      try {
        return (await import("./cpu.ts")).cpuEngine;
      } catch (e) {
        throw new BackendError(
          `the cpu backend (onnxruntime-node) failed to load: ${
            (e as Error).message
          }`,
        );
      }
    case "wasm":
      return (await import("./wasm.ts")).wasmEngine;
    case "webgpu":
      return (await import("./webgpu.ts")).webgpuEngine;
    default:
      throw new BackendError(
        `unknown backend ${JSON.stringify(name)}; choose one of ${
          BACKENDS.join(", ")
        } or auto`,
      );
  }
}

/**
 * Picks a backend. `auto` prefers a hardware WebGPU adapter, then the native
 * CPU engine, then wasm. A software adapter (lavapipe, SwiftShader) is never
 * chosen automatically: it is correct but far too slow for real runs.
 */
export async function selectBackend(
  requested: BackendName | "auto" = "auto",
): Promise<BackendChoice> {
  const adapter = requested === "auto" || requested === "webgpu"
    ? await probeAdapter()
    : null;
  if (requested !== "auto") {
    if (requested === "webgpu" && !adapter) {
      throw new BackendError(
        "WebGPU was requested but no adapter is available",
      );
    }
    const why = requested === "webgpu" && adapter?.software
      ? `requested; ${adapter.description} is a software adapter (slow)`
      : "requested";
    return { engine: await loadEngine(requested), reason: why, adapter };
  }
  if (adapter && !adapter.software) {
    return {
      engine: await loadEngine("webgpu"),
      reason: `auto: hardware WebGPU adapter ${adapter.description}`,
      adapter,
    };
  }
  const skipped = adapter
    ? `software WebGPU adapter ${adapter.description} skipped`
    : "no WebGPU adapter";
  try {
    return {
      engine: await loadEngine("cpu"),
      reason: `auto: ${skipped}; native CPU engine`,
      adapter,
    };
  } catch (e) {
    return {
      engine: await loadEngine("wasm"),
      reason: `auto: ${skipped}; ${(e as Error).message}; wasm fallback`,
      adapter,
    };
  }
}

/**
 * `choice`, or — when `auto` chose WebGPU but WebGPU cannot create a session
 * for `model` — the cpu engine, with the reason in `reason` (so it reaches
 * the record). An explicitly requested backend is never replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectBackend, usableBackend } from "./backend.ts";
 * const cpu = await selectBackend("cpu");
 * // An explicitly requested backend is never replaced.
 * assert.equal(await usableBackend(cpu, new Uint8Array()), cpu);
 * // `auto` chose WebGPU, which cannot load the graph: cpu, saying why.
 * const webgpu = {
 *   ...cpu,
 *   engine: {
 *     ...cpu.engine,
 *     name: "webgpu" as const,
 *     load: () => Promise.reject(new Error("no shader-f16")),
 *   },
 *   reason: "auto: hardware WebGPU adapter",
 * };
 * const used = await usableBackend(webgpu, new Uint8Array());
 * assert.equal(used.engine.name, "cpu");
 * assert.match(used.reason, /could not create a session \(no shader-f16\)/);
 * ```
 */
export async function usableBackend(
  choice: BackendChoice,
  model: Uint8Array,
  fallback: () => Promise<Engine> = () => loadEngine("cpu"),
): Promise<BackendChoice> {
  if (choice.engine.name !== "webgpu" || !choice.reason.startsWith("auto")) {
    return choice;
  }
  try {
    const session = await choice.engine.load(model);
    await session.release();
    return choice;
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    return {
      engine: await fallback(),
      reason:
        `auto: WebGPU could not create a session (${why}); native CPU engine`,
      adapter: choice.adapter,
    };
  }
}
