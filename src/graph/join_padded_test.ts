import assert from "node:assert/strict";
import { Builder } from "./builder.ts";
import type { Node, Value } from "./ir.ts";
import { joinPaddedSum } from "./join_padded.ts";
import { interpret } from "./reference.ts";
import { floatTensor } from "./tensor.ts";

const opOf = (v: Value | null) => v?.source.kind === "node" && v.source.node.op;
const inputsOf = (v: Value) => (v.source as { node: Node }).node.inputs;

/** x [2, 8] and paddings of its column windows [0, 2), [3, 5), [6, 7). */
function slices() {
  const b = new Builder();
  const x = b.input("x", [2, 8]);
  const window = (start: number, end: number) =>
    b.pad(b.slice(x, 1, start, end), 1, start, 8 - end);
  return { b, x, window };
}

const feeds = {
  x: floatTensor([2, 8], Array.from({ length: 16 }, (_, i) => i - 7.5)),
};

Deno.test("joinPaddedSum: disjoint paddings become one Pad of a Concat, with the sum's values", () => {
  const { b, window } = slices();
  const [p, q, r] = [window(0, 2), window(3, 5), window(6, 7)];
  const pq = joinPaddedSum(b, p, q);
  const joined = joinPaddedSum(b, pq!, r);
  assert.equal(opOf(joined), "Pad");
  // One Concat of the three pieces and two zero gaps: the first join's
  // Concat is not nested inside the second.
  const concat = inputsOf(joined!)[0];
  assert.equal(opOf(concat), "Concat");
  assert.deepEqual(inputsOf(concat).map((v) => v.shape[1]), [2, 1, 2, 1, 1]);
  assert.deepEqual(
    b.padded(joined!)!.pieces.map((piece) => piece.start),
    [0, 3, 6],
  );
  b.output("joined", joined!);
  b.output("added", b.add(b.add(p, q), r));
  const out = interpret(b, feeds);
  assert.deepEqual([...out.joined.data], [...out.added.data]);
});

Deno.test("joinPaddedSum: overlapping windows, other axes and plain values are left to Add", () => {
  const { b, x, window } = slices();
  assert.equal(joinPaddedSum(b, window(0, 3), window(2, 5)), null);
  const rows = b.pad(b.slice(x, 0, 0, 1), 0, 0, 1);
  assert.equal(joinPaddedSum(b, window(0, 2), rows), null);
  assert.equal(joinPaddedSum(b, window(0, 2), x), null);
  // The builder itself never rewrites a sum.
  assert.equal(opOf(b.add(window(0, 2), window(3, 5))), "Add");
});
