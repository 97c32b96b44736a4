// llm.c-style proof of the trainer: the committed PyTorch fixture
// (tools/reference/make_reference.py, torch's own autograd and its own
// bf16 conversion) against horizon's compiled step on the cpu backend.
//
// Tolerances are stated per quantity and the achieved max |diff| is printed.
// fp32: both sides compute in float32 with different summation orders, so
// differences are a few float32 ulps amplified by depth; the bounds below are
// relative to the largest magnitude of each tensor. bf16: stored state is
// rounded to 8 significant bits, so an element may land one bf16 ulp away when
// the two float32 results straddle a rounding boundary; we bound that count.

import assert from "node:assert/strict";
import { SEED_MODEL } from "../model/config.ts";
import { stepScalars } from "../step/adamw.ts";
import type { Objective } from "../data/sampler.ts";
import {
  bf16Ulps,
  fixtureBatch,
  floats,
  ints,
  openReferenceFixture,
} from "../testing/reference_fixture.ts";
import {
  assertStateBounds,
  StateDistance,
} from "../testing/reference_bounds.ts";
import { stepConfigOf } from "../testing/tiny_reference.ts";
import { compileStep, type StepConfig } from "../step/step.ts";
import { cpuEngine } from "./cpu.ts";
import { StepRunner } from "./runner.ts";

const FIXTURE = new URL(
  "../../fixtures/reference/gpt2_tiny_v1.safetensors.br",
  import.meta.url,
).pathname;

interface FixtureCase {
  norm: "layernorm" | "rmsnorm";
  precision: "fp32" | "bf16";
  objective: Objective;
  noise_scale?: number | null;
  B: number;
  T: number;
  steps: number;
  lr0: number;
}

/** max |a - b| and the largest |b|, to report relative error. */
function compare(a: Float32Array, b: Float32Array) {
  assert.equal(a.length, b.length);
  let maxDiff = 0, maxRef = 0, mismatches = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > 0) mismatches++;
    maxDiff = Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return { maxDiff, rel: maxDiff / Math.max(maxRef, 1e-30), mismatches };
}

/**
 * Largest distance in bf16 ulps (units of 2^(exponent-7)) between a and b,
 * ignoring elements closer than `floor` in absolute terms (values that are
 * float32 noise around zero can be many ulps of their own tiny magnitude apart).
 */
function maxBf16Ulps(a: Float32Array, b: Float32Array, floor = 0): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i] - b[i]) <= floor) continue;
    worst = Math.max(worst, bf16Ulps(a[i], b[i]));
  }
  return worst;
}

function stepConfig(c: FixtureCase): StepConfig {
  return {
    ...stepConfigOf({ ...SEED_MODEL, norm: c.norm }, c),
    noiseParam: c.noise_scale ? "transformer.wte.weight" : null,
  };
}

/**
 * The state after AdamW updates within reference_bounds.ts' bounds (README.md:
 * parameters within 2 lr0 or one bf16 rounding); moments after the first step
 * within one bf16 ulp (bf16, above float32-noise floors) or 1e-4 of their
 * largest magnitude (fp32).
 */
async function checkState(
  runner: StepRunner,
  params: readonly { name: string }[],
  c: FixtureCase,
  name: string,
  when: "after1" | "after10",
): Promise<string> {
  const state = new StateDistance();
  let worstMoment = 0;
  for (const p of params) {
    state.add(
      await runner.read(p.name),
      await floats(file, `${name}.${when}.${p.name}`),
      p.name,
    );
    if (when !== "after1") continue;
    for (const k of ["m.", "v."]) {
      const gotM = await runner.read(`${k}${p.name}`);
      const refM = await floats(file, `${name}.after1.${k}${p.name}`);
      worstMoment = Math.max(
        worstMoment,
        // Absolute floors: the gradient tolerance (1e-6) carried into m = 0.1 g
        // and v = 0.001 g^2.
        c.precision === "bf16"
          ? maxBf16Ulps(gotM, refM, k === "m." ? 1e-7 : 1e-12)
          : compare(gotM, refM).rel,
      );
    }
  }
  assertStateBounds(state, {
    precision: c.precision,
    lr0: c.lr0,
    label: `${name} ${when}`,
  });
  if (when === "after1") {
    if (c.precision === "fp32") {
      assert.ok(worstMoment <= 1e-4, `${name}: moments rel ${worstMoment}`);
    } else {
      assert.ok(
        worstMoment <= 1,
        `${name}: moments ${worstMoment} bf16 ulps apart`,
      );
    }
  }
  return `${when}: params ${state}` +
    (when === "after1"
      ? `; moments ${
        c.precision === "bf16"
          ? `${worstMoment} bf16 ulp`
          : `rel ${worstMoment.toExponential(2)}`
      }`
      : "");
}

const file = await openReferenceFixture(FIXTURE);
assert.equal(file.metadata.magic, "horizon-reference");
assert.equal(file.metadata.version, "1");
const cases = JSON.parse(file.metadata.cases) as Record<string, FixtureCase>;

// Relative (to max |ref|) bounds for float32 quantities.
const TOL = { logits: 1e-5, loss: 1e-6, grad: 1e-4, gradNorm: 1e-5 };

for (const [name, c] of Object.entries(cases)) {
  if (name === "common") continue; // shared settings, not a case
  const cfg = stepConfig(c);
  const init = new Map<string, Float32Array>();
  const specs = compileStep(cfg, "gradients");
  for (const p of specs.params) {
    init.set(p.name, await floats(file, `${name}.init.${p.name}`));
  }
  const chunks = await ints(file, `${name}.chunks`);

  Deno.test(`reference ${name}: logits, loss and every gradient at step 0`, async () => {
    const session = await cpuEngine.load(specs.onnx);
    try {
      const batch = fixtureBatch(chunks, 0, c, c.objective);
      const feeds: Record<string, ReturnType<typeof session.tensor>> = {};
      const flat = new Float32Array(specs.totalSize);
      for (const p of specs.params) flat.set(init.get(p.name)!, p.offset);
      feeds.params = session.tensor(flat, [specs.totalSize]);
      feeds.input_ids = session.tensor(batch.inputIds, [c.B, c.T]);
      feeds.targets = session.tensor(batch.targets, [c.B, c.T]);
      feeds.loss_weights = session.tensor(batch.weights, [c.B, c.T]);
      const out = await session.run(feeds);
      const lines: string[] = [];
      const check = (
        what: string,
        got: Float32Array,
        ref: Float32Array,
        tol: number,
      ) => {
        const r = compare(got, ref);
        lines.push(
          `${what}: max|diff| ${r.maxDiff.toExponential(2)} (rel ${
            r.rel.toExponential(2)
          })`,
        );
        assert.ok(
          r.rel <= tol,
          `${name} ${what}: relative error ${r.rel} > ${tol}`,
        );
        return r;
      };
      check(
        "logits",
        out.logits.data as Float32Array,
        await floats(file, `${name}.step0.logits`),
        TOL.logits,
      );
      const refLoss = (await floats(file, `${name}.loss`))[0];
      check(
        "loss",
        out.loss.data as Float32Array,
        Float32Array.of(refLoss),
        TOL.loss,
      );
      const refNorm = (await floats(file, `${name}.grad_norm`))[0];
      check(
        "grad_norm",
        out.grad_norm.data as Float32Array,
        Float32Array.of(refNorm),
        TOL.gradNorm,
      );
      let worstGrad = 0;
      for (const p of specs.params) {
        const r = check(
          `grad ${p.name}`,
          out[`grad.${p.name}`].data as Float32Array,
          await floats(file, `${name}.step0.grad.${p.name}`),
          TOL.grad,
        );
        worstGrad = Math.max(worstGrad, r.rel);
      }
      console.log(
        `${name}: ${lines.slice(0, 3).join("; ")}; worst gradient rel ${
          worstGrad.toExponential(2)
        }`,
      );
    } finally {
      await session.release();
    }
  });

  Deno.test(`reference ${name}: 10 AdamW steps (loss, state after 1 and 10)`, async () => {
    const step = compileStep(cfg, "train");
    const runner = await StepRunner.create(cpuEngine, step, init, {
      threads: 1,
    });
    try {
      const refLoss = await floats(file, `${name}.loss`);
      const noise = c.noise_scale ? await floats(file, `${name}.noise`) : null;
      const vd = SEED_MODEL.vocabSize * SEED_MODEL.dModel;
      let worstLoss = 0;
      const summary: string[] = [];
      for (let t = 0; t < c.steps; t++) {
        const out = await runner.run({
          batch: fixtureBatch(chunks, t, c, c.objective),
          scalars: stepScalars(cfg.adamw, t, c.steps),
          noise: noise?.subarray(t * vd, (t + 1) * vd),
        });
        worstLoss = Math.max(
          worstLoss,
          Math.abs(out.loss - refLoss[t]) / Math.abs(refLoss[t]),
        );
        if (t === 0 || t === c.steps - 1) {
          summary.push(
            await checkState(
              runner,
              step.params,
              c,
              name,
              t === 0 ? "after1" : "after10",
            ),
          );
        }
      }
      summary.unshift(
        `loss over 10 steps: worst rel ${worstLoss.toExponential(2)}`,
      );
      console.log(`${name}: ${summary.join("; ")}`);
      assert.ok(worstLoss < 1e-5, `${name}: loss relative error ${worstLoss}`);
    } finally {
      await runner.release();
    }
  });
}
