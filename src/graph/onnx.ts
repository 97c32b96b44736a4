/**
 * Lowers an IR graph to a standard ONNX ModelProto (serialised with the
 * maintained `onnx-proto` protobuf bindings).
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
import { type OnnxAttr, type OnnxEmitter, opDef } from "./op.ts";

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
  // Emit only what the outputs need.
  const needed = new Set<number>(graph.outputs.map((o) => o.value.id));
  const nodes: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (!needed.has(n.output.id)) continue;
    nodes.push(n);
    for (const v of n.inputs) needed.add(v.id);
  }
  nodes.reverse();

  const names = new Map<number, string>();
  for (const v of graph.inputs) {
    names.set(v.id, (v.source as { name: string }).name);
  }
  for (const o of graph.outputs) {
    const v = o.value;
    if (v.source.kind === "node" && !names.has(v.id)) names.set(v.id, o.name);
  }

  const protoNodes: unknown[] = [];
  const initializers: unknown[] = [];
  // Lowering constants (shapes, axes, ones vectors), deduplicated by content.
  const int64Cache = new Map<string, string>();
  let temps = 0;
  const emitter: OnnxEmitter = {
    node(opType, inputs, outputs, attrs = {}) {
      protoNodes.push({
        opType,
        name: `${opType}_${protoNodes.length}`,
        input: [...inputs],
        output: [...outputs],
        attribute: Object.entries(attrs).map(([k, a]) => attribute(k, a)),
      });
    },
    int64(values, shape = [values.length]) {
      const key = `${shape.join("x")}:${values.join(",")}`;
      let name = int64Cache.get(key);
      if (!name) {
        name = `i64_${int64Cache.size}`;
        const data = new BigInt64Array(values.map((v) => BigInt(v)));
        initializers.push({
          name,
          dataType: ELEM_TYPE.int64,
          dims: [...shape],
          rawData: new Uint8Array(data.buffer),
        });
        int64Cache.set(key, name);
      }
      return name;
    },
    floats(values, shape) {
      const key = `f:${shape.join("x")}:${values.join(",")}`;
      let name = int64Cache.get(key);
      if (!name) {
        name = `f32_${int64Cache.size}`;
        initializers.push({
          name,
          dataType: ELEM_TYPE.float32,
          dims: [...shape],
          rawData: rawBytes(values),
        });
        int64Cache.set(key, name);
      }
      return name;
    },
    temp(hint) {
      return `${hint}_t${temps++}`;
    },
  };
  const nameOf = (v: Value): string => {
    let name = names.get(v.id);
    if (name) return name;
    if (v.source.kind === "const") {
      name = `c${v.id}`;
      initializers.push({
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
    names.set(v.id, name);
    return name;
  };

  for (const node of nodes) {
    const inputs = node.inputs.map(nameOf);
    opDef(node.op).lower(emitter, node, inputs, nameOf(node.output));
  }
  // Outputs that are graph inputs, constants or repeated values need a copy.
  for (const o of graph.outputs) {
    const src = nameOf(o.value);
    if (src !== o.name) emitter.node("Identity", [src], [o.name]);
  }

  const model = onnx.ModelProto.create(
    {
      irVersion: IR_VERSION,
      producerName: "horizon",
      opsetImport: [{ domain: "", version: OPSET_VERSION }],
      docString: options.doc ?? "",
      graph: {
        name: options.name,
        node: protoNodes,
        initializer: initializers,
        input: graph.inputs.map((v) => ({
          name: names.get(v.id),
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
