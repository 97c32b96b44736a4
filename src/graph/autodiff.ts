/**
 * Reverse-mode differentiation over the IR.
 *
 * Walks the nodes between the parameters and the loss in reverse creation
 * order and asks each op (from the op table, `ops/mod.ts`) for its
 * vector-Jacobian product; contributions to a value used more than once are
 * summed, through the padded-sum join (`join_padded.ts`), so that slice
 * gradients meeting in a sum become one padded Concat. The gradient graph is
 * appended to the same builder, so forward and backward live in one ONNX
 * graph and share activations.
 *
 * @example
 * ```ts
 * import { Builder } from "./builder.ts";
 * import { gradients } from "./autodiff.ts";
 * const b = new Builder();
 * const w = b.input("w", [3]);
 * const loss = b.reduceSum(b.mul(w, w), [0], false);
 * const [dw] = gradients(b, loss, [w]); // 2w
 * b.output("dw", dw);
 * ```
 *
 * @module
 */

import type { Builder } from "./builder.ts";
import {
  broadcastShapes,
  GraphError,
  type Node,
  shapeString,
  sizeOf,
  type Value,
} from "./ir.ts";
import { joinPaddedSum } from "./join_padded.ts";
import { opDef } from "./ops/mod.ts";

/**
 * Gradients of the scalar `loss` with respect to each of `wrt`, as new values
 * of the builder's graph. A parameter the loss does not depend on gets an
 * all-zero gradient.
 */
export function gradients(
  b: Builder,
  loss: Value,
  wrt: readonly Value[],
): Value[] {
  if (sizeOf(loss.shape) !== 1) {
    throw new GraphError(
      `loss must hold one element, got shape ${shapeString(loss.shape)}`,
    );
  }
  const forward: readonly Node[] = b.nodes.slice();

  // Values downstream of a parameter: only these need cotangents.
  const active = new Set<number>(wrt.map((v) => v.id));
  for (const node of forward) {
    if (node.inputs.some((v) => active.has(v.id))) active.add(node.output.id);
  }

  const sum = (x: Value, y: Value) => joinPaddedSum(b, x, y) ?? b.add(x, y);
  const cotangent = new Map<number, Value>();
  cotangent.set(loss.id, b.reshape(b.scalar(1), loss.shape));

  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const pending = cotangent.get(node.output.id);
    const custom = b.customGradients.get(node.output.id);
    const inputs = custom ? custom.inputs : node.inputs;
    if (!pending || !inputs.some((v) => active.has(v.id))) continue;
    // Contributions may arrive in a broadcastable (smaller) shape; they are
    // only expanded when an op's VJP needs the full cotangent.
    const dy = b.expand(pending, node.output.shape);
    let contributions: readonly (Value | null)[];
    if (custom) {
      contributions = custom.vjp(dy);
    } else {
      const def = opDef(node.op);
      if (!def.vjp) {
        throw new GraphError(
          `${node.op} has no gradient but lies between a parameter and the loss`,
        );
      }
      contributions = def.vjp(b, node, dy);
    }
    inputs.forEach((input, k) => {
      const c = contributions[k];
      if (!c || !active.has(input.id)) return;
      if (broadcastShapes(c.shape, input.shape).join() !== input.shape.join()) {
        throw new GraphError(
          `${node.op} VJP returned ${shapeString(c.shape)} for an input of ${
            shapeString(input.shape)
          }`,
        );
      }
      const prev = cotangent.get(input.id);
      const cast = b.cotangentCasts.get(input.id);
      if (cast) {
        const own = cast(c);
        cotangent.set(input.id, prev ? cast(sum(prev, own)) : own);
      } else {
        cotangent.set(input.id, prev ? sum(prev, c) : c);
      }
    });
  }

  return wrt.map((v) => {
    const g = cotangent.get(v.id);
    return g
      ? b.expand(g, v.shape)
      : b.constant(new Float32Array(sizeOf(v.shape)), v.shape);
  });
}
