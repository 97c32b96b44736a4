import assert from "node:assert/strict";
import {
  encodeSafetensors,
  parseSafetensors,
} from "../../src/io/safetensors/mod.ts";
import {
  floats,
  ints,
  openReferenceFixture,
} from "../../src/testing/reference_fixture.ts";
import { checkCompacted, compactFixture, compress } from "./compact.ts";

// A miniature fixture: two cases sharing weights and windows (duplicates),
// bf16-valued parameters (1.5, -0.25 and 2^-100 have at most 8 significant
// bits), a float32-only gradient (0.1), an F64 learning rate and I32 windows.
const init = new Float32Array([1.5, -0.25, 2 ** -100, -0]);
const grad = new Float32Array([0.1, 1, 2, 3]);
const chunks = new Int32Array([65, 66, 67]);
const lr = new Float64Array([1e-3, 9e-4]);
const original = encodeSafetensors({
  "a.chunks": { dtype: "I32", shape: [3], data: chunks },
  "a.grad": { dtype: "F32", shape: [2, 2], data: grad },
  "a.init": { dtype: "F32", shape: [2, 2], data: init },
  "a.lr": { dtype: "F64", shape: [2], data: lr },
  "b.chunks": { dtype: "I32", shape: [3], data: chunks.slice() },
  "b.grad": { dtype: "F32", shape: [2, 2], data: grad.map((g) => -g) },
  "b.init": { dtype: "F32", shape: [2, 2], data: init.slice() },
}, { metadata: { magic: "horizon-reference", version: "1" } });

Deno.test("compactFixture stores duplicates once and bf16 values as BF16", () => {
  const c = parseSafetensors(compactFixture(original));
  assert.deepEqual(c.names(), [
    "a.chunks",
    "a.grad",
    "a.init",
    "a.lr",
    "b.grad",
  ]);
  assert.deepEqual(JSON.parse(c.metadata.aliases), {
    "b.chunks": "a.chunks",
    "b.init": "a.init",
  });
  assert.equal(c.tensor("a.init").dtype, "BF16");
  assert.equal(c.tensor("a.grad").dtype, "F32"); // 0.1 is no bf16 value
  assert.equal(c.tensor("a.lr").dtype, "F64");
  // 1.5 = 0x3fc00000: its BF16 bytes are the high half, little-endian.
  assert.deepEqual([...c.tensorBytes("a.init").subarray(0, 2)], [0xc0, 0x3f]);
});

Deno.test("a compacted, compressed fixture reads back bit-identical", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f.safetensors.br`;
    await Deno.writeFile(path, compress(compactFixture(original)));
    const f = await openReferenceFixture(path);
    assert.equal(f.metadata.magic, "horizon-reference");
    assert.equal(f.metadata.version, "1");
    assert.deepEqual(await floats(f, "b.init"), init);
    assert.ok(Object.is((await floats(f, "a.init"))[3], -0));
    assert.deepEqual(await floats(f, "a.grad"), grad);
    assert.deepEqual(await ints(f, "b.chunks"), chunks);
    assert.deepEqual(await floats(f, "a.lr"), Float32Array.from(lr));
    assert.deepEqual(f.tensor("b.init").shape, [2, 2]);
    await checkCompacted(original, path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkCompacted notices a changed tensor", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f.safetensors.br`;
    await Deno.writeFile(path, compress(compactFixture(original)));
    const changed = original.slice();
    const g = parseSafetensors(changed).tensor("b.grad");
    changed[g.byteOffset] ^= 1; // the last bit of b.grad[0]
    await assert.rejects(
      () => checkCompacted(changed, path),
      /tensor b\.grad differs/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
