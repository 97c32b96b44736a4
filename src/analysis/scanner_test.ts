import assert from "node:assert/strict";
import { BlackHoleScanner } from "./scanner.ts";

Deno.test("BlackHoleScanner checks block sizes and row counts", () => {
  const s = new BlackHoleScanner(3, 2);
  assert.throws(() => s.add(new Uint8Array(3)), /whole number of 2-byte rows/);
  s.add(new Uint8Array(4));
  assert.throws(() => s.candidates(), /only 2 of 3 rows/);
  assert.throws(() => s.add(new Uint8Array(4)), /too many rows/);
});

Deno.test("BlackHoleScanner picks the engine by row size, hash and matrix size", () => {
  // The kernel needs rows of a multiple of 64 bytes and the default hash.
  assert.throws(
    () => new BlackHoleScanner(2, 48, { engine: "wasm" }),
    /multiple of 64/,
  );
  assert.throws(
    () => new BlackHoleScanner(2, 64, { engine: "wasm", hash: () => 0 }),
    /no custom hash/,
  );
  // "auto" picks the kernel for matrices of 1 MiB and more.
  assert.equal(new BlackHoleScanner(16384, 64).engine, "wasm");
  assert.equal(new BlackHoleScanner(16383, 64).engine, "js");
  assert.equal(new BlackHoleScanner(1 << 20, 48).engine, "js");
});
