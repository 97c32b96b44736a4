import assert from "node:assert/strict";
import { Builder } from "./builder.ts";
import { sizeOf, type Value } from "./ir.ts";
import { OPS } from "./ops/mod.ts";
import { interpret } from "./reference.ts";
import type { HostTensor } from "./tensor.ts";
import { vmapGraph } from "./vmap.ts";
import { buildStep, seedStepConfig, type StepConfig } from "../step/step.ts";
import { SEED_MODEL } from "../model/config.ts";

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A feed for `input`, different for every `seed`. */
function feedFor(
  input: Value,
  seed: number,
  intRange: Record<string, number>,
): HostTensor {
  const next = uniform(seed * 7919 + input.id);
  const n = sizeOf(input.shape);
  const name = (input.source as { name: string }).name;
  if (input.dtype === "int32") {
    const hi = intRange[name] ?? 4;
    return {
      dtype: "int32",
      shape: input.shape,
      data: Int32Array.from({ length: n }, () => Math.floor(next() * hi)),
    };
  }
  return {
    dtype: "float32",
    shape: input.shape,
    data: Float64Array.from(
      { length: n },
      () => Math.fround(next() * 2 - 1),
    ),
  };
}

/**
 * Evaluates `solo` once per replicate and its vmapped graph once, and
 * asserts that every output's replicate slice equals the solo result exactly.
 */
function assertReplicatesExact(
  solo: Builder,
  batched: readonly string[],
  replicas: number,
  intRange: Record<string, number> = {},
): void {
  const replicated = vmapGraph(solo, {
    replicas,
    batched: new Set(batched),
  });
  const soloFeeds = Array.from(
    { length: replicas },
    (_, r) =>
      Object.fromEntries(
        solo.inputs.map((v) => {
          const name = (v.source as { name: string }).name;
          // Shared inputs: one value for every replicate.
          const seed = batched.includes(name) ? r + 1 : 0;
          return [name, feedFor(v, seed, intRange)];
        }),
      ),
  );
  const stacked = Object.fromEntries(
    replicated.inputs.map((v) => {
      const name = (v.source as { name: string }).name;
      if (!batched.includes(name)) return [name, soloFeeds[0][name]];
      const parts = soloFeeds.map((f) => f[name]);
      const data = v.dtype === "int32"
        ? new Int32Array(sizeOf(v.shape))
        : new Float64Array(sizeOf(v.shape));
      parts.forEach((p, r) => data.set(p.data, r * p.data.length));
      return [name, { dtype: v.dtype, shape: v.shape, data } as HostTensor];
    }),
  );
  const together = interpret(replicated, stacked);
  for (let r = 0; r < replicas; r++) {
    const alone = interpret(solo, soloFeeds[r]);
    for (const [name, t] of Object.entries(alone)) {
      const all = together[name];
      assert.deepEqual(all.shape, [replicas, ...t.shape], name);
      const n = t.data.length;
      const slice = Array.from(all.data.subarray(r * n, (r + 1) * n));
      assert.deepEqual(slice, Array.from(t.data), `${name}, replicate ${r}`);
    }
  }
}

/** A graph that uses every op of the table, batched and shared operands mixed. */
function everyOp(): Builder {
  const b = new Builder();
  const x = b.input("x", [4, 6]); // batched
  const w = b.input("w", [6, 5]); // shared
  const v = b.input("v", [3, 4, 6]); // batched, rank 3
  const table = b.input("table", [7, 6]); // batched
  const shared = b.input("shared", [7, 6]); // shared table
  const ids = b.input("ids", [2, 3], "int32"); // batched
  const row = b.input("row", [6]); // batched, lower rank
  const y = b.matmul(x, w); // [4, 5]
  b.output("matmul", y);
  b.output("matmul_tA", b.matmul(x, y, { transA: true })); // [6, 5]
  b.output("matmul_tB", b.matmul(y, w, { transB: true })); // [4, 6]
  b.output("matmul_both", b.matmul(w, x, { transA: true, transB: true }));
  b.output("matmul_3d", b.matmul(v, x, { transB: true })); // [3, 4, 4]
  b.output("matmul_3d_shared", b.matmul(v, w)); // [3, 4, 5]
  const e = b.add(x, row); // rank-1 batched operand broadcast
  b.output(
    "elementwise",
    b.div(
      b.mul(b.sub(b.tanh(e), b.neg(b.abs(x))), b.exp(b.min(e, b.scalar(1)))),
      b.sqrt(b.add(b.max(b.mul(x, x), b.scalar(0.5)), b.log(b.scalar(2)))),
    ),
  );
  b.output(
    "where",
    b.where(b.less(x, b.scalar(0)), x, b.cast(b.equal(x, x), "float32")),
  );
  b.output("sum_rows", b.reduceSum(x, [1], false));
  b.output("sum_cols", b.reduceSum(x, [0], true));
  b.output("sum_all", b.reduceSum(b.reshape(x, [24]), [0], false));
  b.output("sum_3d", b.reduceSum(v, [2], true));
  b.output("max", b.reduceMax(v, [1, 2], false));
  b.output("transpose", b.transpose(v, [2, 0, 1]));
  b.output("expand", b.expand(row, [3, 6]));
  b.output("slice", b.slice(v, 1, 1, 3));
  b.output("pad", b.pad(x, 0, 1, 2));
  b.output("concat", b.concat([x, b.slice(shared, 0, 0, 4)], 1));
  b.output("softmax", b.softmax(v));
  b.output("gather", b.gather(table, ids)); // batched table
  b.output("gather_shared", b.gather(shared, ids)); // shared table
  b.output("shared_only", b.mul(w, w)); // broadcast to every replicate
  return b;
}

Deno.test("vmap: every op's replicate equals its solo evaluation", () => {
  const graph = everyOp();
  const used = new Set(graph.nodes.map((n) => n.op));
  assert.deepEqual(
    Object.keys(OPS).filter((op) => !used.has(op)),
    [],
    "ops missing from the test graph",
  );
  assertReplicatesExact(graph, ["x", "v", "table", "ids", "row"], 3, {
    ids: 7,
  });
});

Deno.test("vmap: R = 1 keeps every number", () => {
  assertReplicatesExact(everyOp(), ["x", "v", "table", "ids", "row"], 1, {
    ids: 7,
  });
});

Deno.test("vmap: the step graph's replicates equal solo steps, every precision", () => {
  const tiny = (overrides: Partial<StepConfig>) =>
    seedStepConfig({
      model: { ...SEED_MODEL, context: 8 },
      batchSize: 2,
      seqLen: 8,
      ...overrides,
    });
  const configs: StepConfig[] = [
    tiny({ noiseParam: "transformer.wte.weight" }),
    tiny({ precision: "fp32" }),
    tiny({ autocast: true }),
    tiny({
      precision: "bf16-pure",
      model: { ...SEED_MODEL, context: 8, norm: "rmsnorm" },
    }),
  ];
  for (const config of configs) {
    const { builder } = buildStep(config);
    const batched = builder.inputs
      .map((v) => (v.source as { name: string }).name)
      .filter((n) => !["lr_wd", "step_size", "bc2_sqrt"].includes(n));
    assertReplicatesExact(builder, batched, 2, {
      input_ids: 128,
      targets: 128,
    });
  }
});

Deno.test("vmap: rejects unknown batched inputs and bad replica counts", () => {
  const b = new Builder();
  b.output("y", b.neg(b.input("x", [2])));
  assert.throws(
    () => vmapGraph(b, { replicas: 2, batched: new Set(["z"]) }),
    /no input named z/,
  );
  assert.throws(
    () => vmapGraph(b, { replicas: 0, batched: new Set(["x"]) }),
    /replicas must be an integer >= 1/,
  );
});
