/**
 * Finds the WebGPU adapter and tells hardware from software rasterisers,
 * without loading onnxruntime.
 *
 * @module
 */

/** What the WebGPU adapter says about itself. */
export interface AdapterInfo {
  /** Adapter description (else device name, else `unknown adapter`). */
  readonly description: string;
  /** Vendor name as the adapter reports it (may be empty). */
  readonly vendor: string;
  /** Software rasteriser (Mesa lavapipe / llvmpipe, SwiftShader, WARP). */
  readonly software: boolean;
}

/** Queries the default WebGPU adapter; null when WebGPU is unavailable. */
export async function probeAdapter(): Promise<AdapterInfo | null> {
  const gpu = (globalThis.navigator as { gpu?: GPU }).gpu;
  if (!gpu) return null;
  // Mesa's Vulkan WSI complains on stderr when this is unset (headless
  // machines, CI); it only needs a writable directory.
  if (!Deno.env.get("XDG_RUNTIME_DIR")) {
    try {
      Deno.env.set(
        "XDG_RUNTIME_DIR",
        Deno.makeTempDirSync({ prefix: "horizon-xdg-" }),
      );
    } catch {
      // Without env/write permission the warning is cosmetic: carry on.
    }
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch {
    return null;
  }
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const description = info.description || info.device || "unknown adapter";
  const software = info.isFallbackAdapter === true ||
    /llvmpipe|lavapipe|swiftshader|warp|software/i.test(description);
  return { description, vendor: info.vendor, software };
}
