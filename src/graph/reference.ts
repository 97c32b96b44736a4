/**
 * The float64 reference interpreter: evaluates an IR graph on the host with
 * each op's `evaluate` (from the op table, `ops/mod.ts`), in float64. It is the oracle for the finite-difference
 * tests and for checking that ONNX lowering preserved the graph's meaning.
 *
 * @example
 * ```ts
 * import { Builder } from "./builder.ts";
 * import { interpret } from "./reference.ts";
 * import { floatTensor } from "./tensor.ts";
 * const b = new Builder();
 * const x = b.input("x", [2]);
 * b.output("y", b.mul(x, x));
 * const { y } = interpret(b, { x: floatTensor([2], [3, 4]) });
 * console.log(Array.from(y.data)); // [9, 16]
 * ```
 *
 * @module
 */

import type { Builder } from "./builder.ts";
import { GraphError, shapeString, type Value } from "./ir.ts";
import { opDef } from "./ops/mod.ts";
import type { HostData, HostTensor } from "./tensor.ts";

function constData(v: Value): HostData {
  if (v.source.kind !== "const") throw new GraphError("not a constant");
  const d = v.source.data;
  return d instanceof Float32Array ? Float64Array.from(d) : d.slice();
}

/** Evaluates every output of the graph for the given input feeds. */
export function interpret(
  graph: Pick<Builder, "nodes" | "inputs" | "outputs">,
  feeds: Readonly<Record<string, HostTensor>>,
): Record<string, HostTensor> {
  const values = new Map<number, HostTensor>();
  const read = (v: Value): HostTensor => {
    const t = values.get(v.id);
    if (t) return t;
    if (v.source.kind === "const") {
      const c = { dtype: v.dtype, shape: v.shape, data: constData(v) };
      values.set(v.id, c);
      return c;
    }
    throw new GraphError(`value ${v.id} read before it was computed`);
  };
  for (const input of graph.inputs) {
    const name = (input.source as { name: string }).name;
    const t = feeds[name];
    if (!t) throw new GraphError(`missing feed for input ${name}`);
    if (t.shape.join() !== input.shape.join() || t.dtype !== input.dtype) {
      throw new GraphError(
        `feed ${name}: expected ${input.dtype}${
          shapeString(input.shape)
        }, got ${t.dtype}${shapeString(t.shape)}`,
      );
    }
    values.set(input.id, t);
  }
  for (const node of graph.nodes) {
    const out = opDef(node.op).evaluate(
      node.inputs.map(read),
      node.attrs,
      node.output,
    );
    values.set(node.output.id, out);
  }
  const result: Record<string, HostTensor> = {};
  for (const o of graph.outputs) result[o.name] = read(o.value);
  return result;
}
