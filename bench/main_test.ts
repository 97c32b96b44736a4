// `deno task bench --json` field names are documented as stable (README,
// Performance): a few steps pin them, on cpu always and on webgpu when an
// adapter exists (lavapipe here: 2 steps of the seed config take seconds).

import assert from "node:assert/strict";
import { webgpuForTests } from "../src/testing/helpers.ts";
import { runScript } from "../src/testing/helpers.ts";

const hasGpu = await webgpuForTests();

async function bench(...args: string[]) {
  const r = await runScript(new URL("main.ts", import.meta.url).pathname, [
    "--json",
    "--no-torch",
    "--steps",
    "1",
    "--warmup",
    "1",
    ...args,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("bench --json: backends.<name>.msPerStep and replicates.<R>.replicateStepsPerSecond", async () => {
  const out = await bench("--backends", "cpu", "--replicates", "2,1");
  const cpu = out.backends.cpu;
  assert.ok(cpu.msPerStep > 0, JSON.stringify(cpu));
  assert.equal(cpu.steps, 1);
  assert.equal(cpu.readEvery, 1);
  assert.ok(cpu.msPerStepMin <= cpu.msPerStepMedian);
  assert.deepEqual(Object.keys(cpu.replicates).sort(), ["1", "2"]);
  assert.ok(cpu.replicates["2"].replicateStepsPerSecond > 0);
  assert.ok(
    Math.abs(
      cpu.replicates["1"].replicateStepsPerSecond * cpu.msPerStep - 1000,
    ) <
      1e-6,
  );
  assert.equal(cpu.dispatchesPerStep, undefined, "GPU counts are webgpu's");
  assert.deepEqual(out.skipped, []);
});

Deno.test({
  name:
    "bench --json: webgpu reports dispatches, bytes, syncs and memory growth per step",
  ignore: !hasGpu,
  fn: async () => {
    const out = await bench(
      "--backends",
      "webgpu",
      "--read-every",
      "1",
      "--replicates",
      "1,2",
    );
    const g = out.backends.webgpu;
    assert.ok(g.msPerStep > 0);
    // One step of the seed graph: hundreds of kernels; the batch (3 x 16 kB)
    // goes up; loss, gradient norm and the embedding (32 kB) come down in
    // one sync; nothing is left allocated.
    assert.ok(g.dispatchesPerStep > 100, `${g.dispatchesPerStep} dispatches`);
    assert.ok(g.bytesUpPerStep >= 3 * 32 * 128 * 4, `${g.bytesUpPerStep} up`);
    assert.equal(g.bytesDownPerStep, 4 * (2 + 128 * 64));
    assert.equal(g.syncsPerStep, 1);
    assert.equal(g.gpuMemoryGrowthBytesPerStep, 0);
    // Two replicates in one graph: the same kernels over twice the data,
    // plus a few per-replicate reductions, not twice the dispatches.
    const two = g.replicates["2"].dispatchesPerStep;
    assert.equal(g.replicates["1"].dispatchesPerStep, g.dispatchesPerStep);
    assert.ok(
      two < 1.5 * g.dispatchesPerStep,
      `${two} dispatches for 2 replicates, ${g.dispatchesPerStep} for 1`,
    );
    assert.ok(g.submitsPerStep >= 1);
  },
});
