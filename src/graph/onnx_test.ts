// The ONNX lowering of every op, run on onnxruntime (cpu and wasm), against
// the float64 reference interpreter of the same IR graph.

import assert from "node:assert/strict";
import { Builder } from "./builder.ts";
import { interpret } from "./reference.ts";
import { floatTensor, type HostTensor, intTensor } from "./tensor.ts";
import { IR_VERSION, OPSET_VERSION, toOnnx } from "./onnx.ts";
import * as onnxModule from "onnx-proto";
import { MAX_KERNEL_BUFFERS } from "./op.ts";
import { OPS } from "./ops/mod.ts";
import { joinPaddedSum } from "./join_padded.ts";
import { cpuEngine } from "../runtime/cpu.ts";
import { wasmEngine } from "../runtime/wasm.ts";
import type { Engine } from "../runtime/engine.ts";

// onnx-proto is CommonJS; its namespace object sits on the default export.
const onnx = (onnxModule as unknown as { default: typeof onnxModule })
  .default.onnx;

function values(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return 2 * (s / 2 ** 32) - 1;
  });
}

/** One graph using every op, including each lowering special case. */
function allOps() {
  const b = new Builder();
  const x = b.input("x", [4, 6]);
  const w = b.input("w", [6, 5]);
  const q = b.input("q", [2, 3, 4]);
  const ids = b.input("ids", [3], "int32");
  const out: Record<string, ReturnType<Builder["add"]>> = {
    gemm: b.matmul(x, w),
    gemmTA: b.matmul(x, x, { transA: true }),
    gemmTB: b.matmul(x, x, { transB: true }),
    gemmTT: b.matmul(w, x, { transA: true, transB: true }),
    batched: b.matmul(q, q, { transB: true }),
    batchedTA: b.matmul(q, q, { transA: true }),
    rowSums: b.reduceSum(x, [0], true), // lowered to ones @ x
    colSums: b.reduceSum(x, [1], false), // lowered to x @ ones
    sum3d: b.reduceSum(q, [1, 2], true),
    max: b.reduceMax(x, [1], true),
    softmax: b.softmax(q),
    arith: b.div(
      b.sub(b.mul(x, x), b.scalar(0.5)),
      b.add(b.abs(x), b.scalar(1)),
    ),
    unary: b.add(
      b.add(b.tanh(x), b.exp(b.neg(x))),
      b.log(b.sqrt(b.add(b.abs(x), b.scalar(1)))),
    ),
    minmax: b.add(b.min(x, b.scalar(0.2)), b.max(x, b.scalar(-0.2))),
    where: b.where(b.less(x, b.scalar(0)), x, b.mul(x, b.scalar(3))),
    equal: b.cast(b.equal(b.cast(ids, "float32"), b.scalar(2)), "float32"),
    gather: b.gather(w, ids),
    oneHot: b.oneHot(ids, 5),
    transpose: b.transpose(q, [2, 0, 1]),
    reshape: b.reshape(q, [6, 4]),
    expand: b.expand(b.reshape(b.reduceSum(x, [1], false), [4, 1]), [4, 6]),
    slice: b.slice(x, 1, 2, 5),
    pad: b.pad(x, 0, 1, 2),
    concat: b.concat([x, b.slice(x, 1, 0, 2)], 1),
    // Lowering special cases: sibling slices (one Split, with a gap), a
    // product plus a bias or a scalar (one Gemm with C), and a sum of
    // zero-padded pieces (one Concat, joined by joinPaddedSum).
    splitLeft: b.slice(w, 1, 0, 2),
    splitRight: b.slice(w, 1, 3, 5),
    gemmBias: b.add(b.matmul(x, w), b.reshape(b.slice(w, 0, 2, 3), [5])),
    gemmScalar: b.add(b.scalar(0.5), b.matmul(x, x, { transB: true })),
    padded: joinPaddedSum(
      b,
      b.pad(b.slice(q, 2, 0, 1), 2, 0, 3),
      b.pad(b.slice(q, 2, 2, 4), 2, 2, 0),
    )!,
  };
  for (const [name, v] of Object.entries(out)) b.output(name, v);
  const feeds: Record<string, HostTensor> = {
    x: floatTensor([4, 6], values(24, 1)),
    w: floatTensor([6, 5], values(30, 2)),
    q: floatTensor([2, 3, 4], values(24, 3)),
    ids: intTensor([3], [2, 0, 2]),
  };
  return { b, feeds };
}

Deno.test("the emitted model pins opset and IR version", () => {
  const { b } = allOps();
  const bytes = toOnnx(b, { name: "t" });
  // ModelProto field 1 (ir_version) is the first varint: tag 0x08.
  assert.equal(bytes[0], 0x08);
  assert.equal(bytes[1], IR_VERSION);
  assert.equal(OPSET_VERSION, 17);
});

Deno.test("the all-ops graph covers every op of the table", () => {
  const { b } = allOps();
  const used = new Set(b.nodes.map((n) => n.op));
  assert.deepEqual(Object.keys(OPS).filter((op) => !used.has(op)), []);
});

function opTypes(bytes: Uint8Array): string[] {
  return onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType!);
}

Deno.test("sibling slices, product sums and padded sums lower to one node each", () => {
  const b = new Builder();
  const flat = b.input("flat", [10]);
  const x = b.input("x", [4, 6]), w = b.input("w", [6, 3]);
  b.output("a", b.slice(flat, 0, 0, 4));
  b.output("c", b.slice(flat, 0, 7, 10));
  b.output("y", b.add(b.matmul(x, w), b.slice(flat, 0, 4, 7)));
  const joined = joinPaddedSum(
    b,
    b.pad(b.slice(x, 1, 0, 2), 1, 0, 4),
    b.pad(b.slice(x, 1, 3, 5), 1, 3, 1),
  )!;
  b.output("z", joined);
  assert.equal(joined.source.kind === "node" && joined.source.node.op, "Pad");
  const ops = opTypes(toOnnx(b, { name: "t" }));
  // flat's three slices: one Split; x's two: another; the sum: Gemm; the
  // padded sum: Concat (with a zero gap) inside one Pad.
  assert.deepEqual(ops.sort(), ["Concat", "Gemm", "Pad", "Split", "Split"]);
});

Deno.test("a Concat or Split of many tensors stays within one kernel's storage buffers, same values", async () => {
  const b = new Builder();
  const flat = b.input("flat", [80]);
  // 40 pieces joined back (as R = 40 replicates' per-replicate sums are).
  const pieces = Array.from(
    { length: 40 },
    (_, i) => b.mul(b.slice(flat, 0, 2 * i, 2 * i + 2), b.scalar(i + 1)),
  );
  b.output("joined", b.concat(pieces, 0));
  const bytes = toOnnx(b, { name: "wide" });
  const nodes = onnx.ModelProto.decode(bytes).graph!.node!;
  for (const n of nodes) {
    const buffers = n.input!.filter((i) => !/shape|split|axes/i.test(i))
      .length + n.output!.length;
    assert.ok(
      buffers <= MAX_KERNEL_BUFFERS,
      `${n.opType} binds ${buffers} tensors`,
    );
  }
  assert.ok(nodes.filter((n) => n.opType === "Split").length >= 2);
  assert.ok(nodes.filter((n) => n.opType === "Concat").length >= 2);
  const feed = values(80, 3).map(Math.fround);
  const expected = interpret(b, { flat: floatTensor([80], feed) });
  const session = await cpuEngine.load(bytes);
  try {
    const out = await session.run({
      flat: session.tensor(Float32Array.from(feed), [80]),
    });
    assert.deepEqual(
      [...await session.read(out.joined)],
      [...expected.joined.data].map(Math.fround),
    );
  } finally {
    await session.release();
  }
});

for (const engine of [cpuEngine, wasmEngine] as Engine[]) {
  Deno.test(`${engine.name}: every lowered op matches the float64 interpreter`, async () => {
    const { b, feeds } = allOps();
    const expected = interpret(b, feeds);
    const session = await engine.load(toOnnx(b, { name: "all_ops" }));
    try {
      const ortFeeds = Object.fromEntries(
        Object.entries(feeds).map(([k, t]) => [
          k,
          session.tensor(
            t.dtype === "int32"
              ? Int32Array.from(t.data)
              : Float32Array.from(t.data),
            t.shape,
          ),
        ]),
      );
      const got = await session.run(ortFeeds);
      for (const [name, ref] of Object.entries(expected)) {
        const data = await session.read(got[name]);
        assert.deepEqual([...got[name].dims], [...ref.shape], `${name}: shape`);
        let worst = 0;
        for (let i = 0; i < ref.data.length; i++) {
          worst = Math.max(
            worst,
            Math.abs(data[i] - ref.data[i]) /
              Math.max(1, Math.abs(ref.data[i])),
          );
        }
        assert.ok(worst < 1e-6, `${engine.name} ${name}: off by ${worst}`);
      }
    } finally {
      await session.release();
    }
  });
}
