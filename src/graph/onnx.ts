/**
 * Lowers an IR graph to a standard ONNX ModelProto (serialised with the
 * maintained `onnx-proto` protobuf bindings), each node by its op's `lower`
 * (from the op table, `ops/mod.ts`).
 *
 * Pinned versions: opset 17 of the default domain, IR version 8. Only
 * default-domain ops are emitted, so the same bytes load in onnxruntime-node,
 * onnxruntime-web (wasm) and onnxruntime-web (WebGPU).
 *
 * @example
 * ```ts
 * import { Builder } from "./builder.ts";
 * import { toOnnx } from "./onnx.ts";
 * const b = new Builder();
 * const x = b.input("x", [4]);
 * b.output("y", b.add(x, b.scalar(1)));
 * const bytes: Uint8Array = toOnnx(b, { name: "add_one" });
 * ```
 *
 * @module
 */

import * as onnxModule from "onnx-proto";
import type { Builder } from "./builder.ts";
import { type DType, GraphError, type Node, type Value } from "./ir.ts";
import { normaliseAxis } from "./ir.ts";
import {
  MAX_KERNEL_BUFFERS,
  numAttr,
  type OnnxAttr,
  type OnnxEmitter,
} from "./op.ts";
import { opDef } from "./ops/mod.ts";

/** The ONNX opset horizon's graphs are written against. */
export const OPSET_VERSION = 17;
/** The ONNX IR version of the emitted ModelProto. */
export const IR_VERSION = 8;

// onnx-proto is CommonJS; its namespace object sits on the default export.
const onnx = (onnxModule as unknown as { default: typeof onnxModule })
  .default.onnx;

const ELEM_TYPE: Record<DType | "int64", number> = {
  float32: 1, // FLOAT
  int32: 6, // INT32
  int64: 7, // INT64
  bool: 9, // BOOL
};

function tensorType(dtype: DType, shape: readonly number[]) {
  return {
    tensorType: {
      elemType: ELEM_TYPE[dtype],
      shape: { dim: shape.map((d) => ({ dimValue: d })) },
    },
  };
}

function rawBytes(data: Float32Array | Int32Array | Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

function attribute(name: string, a: OnnxAttr) {
  const AT = onnx.AttributeProto.AttributeType;
  if ("int" in a) return { name, type: AT.INT, i: a.int };
  if ("float" in a) return { name, type: AT.FLOAT, f: a.float };
  if ("ints" in a) return { name, type: AT.INTS, ints: [...a.ints] };
  return { name, type: AT.INT, i: ELEM_TYPE[a.type] };
}

/** Options of {@link toOnnx}. */
export interface ToOnnxOptions {
  /** Graph name recorded in the model. */
  name: string;
  /** Free-form `doc_string` (e.g. the config that produced the graph). */
  doc?: string;
}

/** Serialises the graph to ONNX ModelProto bytes. */
export function toOnnx(
  graph: Pick<Builder, "nodes" | "inputs" | "outputs">,
  options: ToOnnxOptions,
): Uint8Array {
  const nodes = liveNodes(graph);
  const sink = new ProtoSink(namedValues(graph));
  const splits = siblingSlices(nodes);
  const gemms = productSums(nodes, graph.outputs);
  const absorbed = new Set([...gemms.values()].map((g) => g.product));
  for (const node of nodes) {
    const split = splits.get(node);
    if (split) {
      if (split.first === node) emitSplit(sink, split, sink.nameOf);
      continue;
    }
    if (absorbed.has(node)) continue;
    const gemm = gemms.get(node);
    if (gemm) {
      emitGemm(sink, gemm, sink.nameOf(node.output));
      continue;
    }
    const inputs = node.inputs.map(sink.nameOf);
    opDef(node.op).lower(sink, node, inputs, sink.nameOf(node.output));
  }
  // Outputs that are graph inputs, constants or repeated values need a copy.
  for (const o of graph.outputs) {
    const src = sink.nameOf(o.value);
    if (src !== o.name) sink.node("Identity", [src], [o.name]);
  }
  return modelBytes(graph, sink, options);
}

/** The nodes the outputs need, in graph order (dead code is not emitted). */
function liveNodes(graph: Pick<Builder, "nodes" | "outputs">): Node[] {
  const needed = new Set<number>(graph.outputs.map((o) => o.value.id));
  const nodes: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (!needed.has(n.output.id)) continue;
    nodes.push(n);
    for (const v of n.inputs) needed.add(v.id);
  }
  return nodes.reverse();
}

/** Names fixed by the graph: its inputs', and outputs computed by a node. */
function namedValues(
  graph: Pick<Builder, "inputs" | "outputs">,
): Map<number, string> {
  const names = new Map<number, string>();
  for (const v of graph.inputs) {
    names.set(v.id, (v.source as { name: string }).name);
  }
  for (const o of graph.outputs) {
    const v = o.value;
    if (v.source.kind === "node" && !names.has(v.id)) names.set(v.id, o.name);
  }
  return names;
}

/**
 * Collects the ONNX nodes and initializers as lowering emits them. Names are
 * handed out in emission order, so the bytes depend only on the graph.
 */
class ProtoSink implements OnnxEmitter {
  readonly protoNodes: unknown[] = [];
  readonly initializers: unknown[] = [];
  /** Lowering constants (shapes, axes, ones vectors), deduplicated by content. */
  readonly #constants = new Map<string, string>();
  #temps = 0;

  constructor(readonly names: Map<number, string>) {}

  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Readonly<Record<string, OnnxAttr>> = {},
  ): void {
    this.protoNodes.push({
      opType,
      name: `${opType}_${this.protoNodes.length}`,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([k, a]) => attribute(k, a)),
    });
  }

  int64(
    values: readonly number[],
    shape: readonly number[] = [values.length],
  ): string {
    const key = `${shape.join("x")}:${values.join(",")}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = `i64_${this.#constants.size}`;
      const data = new BigInt64Array(values.map((v) => BigInt(v)));
      this.initializers.push({
        name,
        dataType: ELEM_TYPE.int64,
        dims: [...shape],
        rawData: new Uint8Array(data.buffer),
      });
      this.#constants.set(key, name);
    }
    return name;
  }

  floats(values: Float32Array, shape: readonly number[]): string {
    const key = `f:${shape.join("x")}:${values.join(",")}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = `f32_${this.#constants.size}`;
      this.initializers.push({
        name,
        dataType: ELEM_TYPE.float32,
        dims: [...shape],
        rawData: rawBytes(values),
      });
      this.#constants.set(key, name);
    }
    return name;
  }

  temp(hint: string): string {
    return `${hint}_t${this.#temps++}`;
  }

  /** A value's ONNX name; a constant becomes an initializer on first use. */
  readonly nameOf = (v: Value): string => {
    let name = this.names.get(v.id);
    if (name) return name;
    if (v.source.kind === "const") {
      name = `c${v.id}`;
      this.initializers.push({
        name,
        dataType: ELEM_TYPE[v.dtype],
        dims: [...v.shape],
        rawData: rawBytes(v.source.data),
      });
    } else if (v.source.kind === "node") {
      name = `v${v.id}`;
    } else {
      throw new GraphError(`input value ${v.id} has no name`);
    }
    this.names.set(v.id, name);
    return name;
  };
}

/** A matrix product whose only use is a sum with `addend`. */
interface ProductSum {
  readonly product: Node;
  readonly addend: Value;
}

/** A product plus an addend as one Gemm (C = the addend). */
function emitGemm(
  sink: ProtoSink,
  gemm: ProductSum,
  output: string,
): void {
  const [a, b] = gemm.product.inputs.map(sink.nameOf);
  let c = sink.nameOf(gemm.addend);
  if (gemm.addend.shape.length === 0) {
    // onnxruntime-web's WebGPU Gemm aborts on a rank-0 C.
    const t = sink.temp("c");
    sink.node("Reshape", [c, sink.int64([1])], [t]);
    c = t;
  }
  sink.node("Gemm", [a, b, c], [output], {
    transA: { int: gemm.product.attrs.transA === 1 ? 1 : 0 },
    transB: { int: gemm.product.attrs.transB === 1 ? 1 : 0 },
  });
}

/** The ModelProto around the emitted nodes, encoded. */
function modelBytes(
  graph: Pick<Builder, "inputs" | "outputs">,
  sink: ProtoSink,
  options: ToOnnxOptions,
): Uint8Array {
  const model = onnx.ModelProto.create(
    {
      irVersion: IR_VERSION,
      producerName: "horizon",
      opsetImport: [{ domain: "", version: OPSET_VERSION }],
      docString: options.doc ?? "",
      graph: {
        name: options.name,
        node: sink.protoNodes,
        initializer: sink.initializers,
        input: graph.inputs.map((v) => ({
          name: sink.names.get(v.id),
          type: tensorType(v.dtype, v.shape),
        })),
        output: graph.outputs.map((o) => ({
          name: o.name,
          type: tensorType(o.value.dtype, o.value.shape),
        })),
      },
    } as Parameters<typeof onnx.ModelProto.create>[0],
  );
  return onnx.ModelProto.encode(model).finish();
}

/** Disjoint slices of one value along one axis, in window order. */
interface SliceGroup {
  /** The group's slice that comes first in the graph (where Split goes). */
  readonly first: Node;
  readonly axis: number;
  readonly slices: readonly Node[];
}

/**
 * Slices of the same value along the same axis whose windows do not overlap
 * (the parameter views of the flat state, the heads' columns of a weight):
 * each such group becomes one Split, one kernel instead of one per slice,
 * which is what counts on engines with per-kernel overhead (WebGPU).
 */
function siblingSlices(nodes: readonly Node[]): Map<Node, SliceGroup> {
  const byInput = new Map<string, Node[]>();
  for (const n of nodes) {
    if (n.op !== "Slice") continue;
    const x = n.inputs[0];
    const key = `${x.id}:${
      normaliseAxis(numAttr(n.attrs, "axis"), x.shape.length)
    }`;
    const group = byInput.get(key);
    if (group) group.push(n);
    else byInput.set(key, [n]);
  }
  const groups = new Map<Node, SliceGroup>();
  for (const group of byInput.values()) {
    if (group.length < 2) continue;
    const sorted = [...group].sort((a, b) =>
      numAttr(a.attrs, "start") - numAttr(b.attrs, "start")
    );
    const overlap = sorted.some((n, i) =>
      i > 0 && numAttr(n.attrs, "start") < numAttr(sorted[i - 1].attrs, "end")
    );
    if (overlap) continue;
    const x = group[0].inputs[0];
    const axis = normaliseAxis(numAttr(group[0].attrs, "axis"), x.shape.length);
    for (const chunk of withinKernelBuffers(sorted)) {
      if (chunk.length < 2) continue;
      const first = group.find((n) => chunk.includes(n))!;
      const g: SliceGroup = { first, axis, slices: chunk };
      for (const n of chunk) groups.set(n, g);
    }
  }
  return groups;
}

/**
 * Sorted disjoint slices cut into runs whose Split (input, outputs and the
 * unread pieces of the gaps and ends) binds at most MAX_KERNEL_BUFFERS
 * tensors; one run when they fit (every solo step graph's groups do).
 */
function withinKernelBuffers(sorted: readonly Node[]): Node[][] {
  const chunks: Node[][] = [];
  let chunk: Node[] = [];
  let buffers = 2; // the input, and an unread piece before the first slice
  let at = 0;
  for (const n of sorted) {
    const gap = numAttr(n.attrs, "start") > at ? 1 : 0;
    // +1 for this slice, +1 for a possible unread piece after it.
    if (chunk.length && buffers + gap + 2 > MAX_KERNEL_BUFFERS) {
      chunks.push(chunk);
      chunk = [];
      buffers = 2;
    }
    chunk.push(n);
    buffers += gap + 1;
    at = numAttr(n.attrs, "end");
  }
  if (chunk.length) chunks.push(chunk);
  return chunks;
}

function emitSplit(
  e: OnnxEmitter,
  g: SliceGroup,
  nameOf: (v: Value) => string,
): void {
  const x = g.first.inputs[0];
  const sizes: number[] = [];
  const outputs: string[] = [];
  let at = 0;
  for (const n of g.slices) {
    const start = numAttr(n.attrs, "start"), end = numAttr(n.attrs, "end");
    // Uncovered stretches become outputs nobody reads.
    if (start > at) {
      sizes.push(start - at);
      outputs.push(e.temp("unused"));
    }
    sizes.push(end - start);
    outputs.push(nameOf(n.output));
    at = end;
  }
  if (at < x.shape[g.axis]) {
    sizes.push(x.shape[g.axis] - at);
    outputs.push(e.temp("unused"));
  }
  e.node("Split", [nameOf(x), e.int64(sizes)], outputs, {
    axis: { int: g.axis },
  });
}

/**
 * Longest inner dimension of a product folded into its sum. A Gemm adds C
 * to the finished dot product, one rounding like the separate Add, as long
 * as its kernel sums the inner dimension in one block (a longer one is summed
 * block by block into C). onnxruntime's CPU kernel (MLAS) does up to this
 * length in one: the committed run records, whose steps have such sums
 * (products over 32, 64 and 128), reproduce bit for bit.
 */
const GEMM_SUM_MAX_K = 128;

/**
 * Sums `a @ b + c` of 2-D products used only by that sum, with c broadcast
 * to the product (bias, epsilon, a running sum of gradient products): each
 * becomes one Gemm with C, one kernel instead of two.
 */
function productSums(
  nodes: readonly Node[],
  outputs: readonly { value: Value }[],
): Map<Node, ProductSum> {
  const uses = new Map<number, number>();
  const use = (v: Value) => uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  for (const n of nodes) n.inputs.forEach(use);
  for (const o of outputs) use(o.value);
  const found = new Map<Node, { product: Node; addend: Value }>();
  for (const n of nodes) {
    if (n.op !== "Add" || n.output.shape.length !== 2) continue;
    for (const k of [0, 1]) {
      const v = n.inputs[k], addend = n.inputs[1 - k];
      if (v.source.kind !== "node" || uses.get(v.id) !== 1) continue;
      const product = v.source.node;
      if (product.op !== "MatMul" || product.inputs[1].shape.length !== 2) {
        continue;
      }
      const a = product.inputs[0];
      const inner = product.attrs.transA === 1 ? a.shape[0] : a.shape[1];
      const fits = addend.shape.length <= 2 &&
        addend.shape.every((d, i) =>
          d === 1 || d === n.output.shape[i + 2 - addend.shape.length]
        );
      if (
        a.shape.length === 2 && inner <= GEMM_SUM_MAX_K && fits &&
        v.shape.join() === n.output.shape.join() && !found.has(product)
      ) {
        found.set(n, { product, addend });
        break;
      }
    }
  }
  return found;
}
