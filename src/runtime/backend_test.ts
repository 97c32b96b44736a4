import assert from "node:assert/strict";
import { type BackendChoice, usableBackend } from "./backend.ts";
import { BackendError, type Engine } from "./engine.ts";

function fakeEngine(name: Engine["name"], fails: boolean): Engine {
  return {
    name,
    runtime: `fake ${name}`,
    load() {
      if (fails) {
        return Promise.reject(
          new BackendError("createBindGroup: stale buffer\nmore detail"),
        );
      }
      return Promise.resolve({
        backend: name,
        description: "fake",
        deviceResident: false,
        tensor: () => {
          throw new Error("unused");
        },
        run: () => Promise.reject(new Error("unused")),
        read: () => Promise.reject(new Error("unused")),
        readRange: () => Promise.reject(new Error("unused")),
        createLog: () => {
          throw new Error("unused");
        },
        dispose() {},
        release: () => Promise.resolve(),
      });
    },
  };
}

const cpu = () => Promise.resolve(fakeEngine("cpu", false));
const model = new Uint8Array([1, 2, 3]);

Deno.test("auto falls back to cpu, with the reason, when WebGPU cannot create a session", async () => {
  const auto: BackendChoice = {
    engine: fakeEngine("webgpu", true),
    reason: "auto: hardware WebGPU adapter NVIDIA H200",
    adapter: null,
  };
  const chosen = await usableBackend(auto, model, cpu);
  assert.equal(chosen.engine.name, "cpu");
  assert.equal(
    chosen.reason,
    "auto: WebGPU could not create a session (createBindGroup: stale buffer); native CPU engine",
  );
});

Deno.test("a working WebGPU, or an explicitly requested backend, is kept", async () => {
  const ok: BackendChoice = {
    engine: fakeEngine("webgpu", false),
    reason: "auto: hardware WebGPU adapter X",
    adapter: null,
  };
  assert.equal(await usableBackend(ok, model, cpu), ok);
  const requested: BackendChoice = {
    engine: fakeEngine("webgpu", true),
    reason: "requested",
    adapter: null,
  };
  // Asked for by name: a failure is the user's to see, not replaced.
  assert.equal(await usableBackend(requested, model, cpu), requested);
});
