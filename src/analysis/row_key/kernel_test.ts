import assert from "node:assert/strict";
import { findBlackHoles } from "../black_holes.ts";
import { BlackHoleScanner } from "../scanner.ts";
import { FLOAT_FORMATS } from "../../testing/matrices.ts";
import {
  assembleWat,
  KERNEL_WASM_MODULE,
  KERNEL_WAT,
  kernelModuleText,
  loadWabt,
} from "./build_kernel.ts";
import { kernelBytes, wasmHashAvailable } from "./kernel.ts";
import { hashRowBytes } from "./row_hash.ts";

// wabt is a devDependency (npm ci installs it); without it the rebuild
// check cannot run, and says so rather than failing.
const wabt = await loadWabt();
if (wabt === null) {
  console.warn(
    "kernel_test.ts: the wabt package is not installed (npm ci --ignore-scripts); skipping the kernel rebuild check",
  );
}

Deno.test({
  name: "the committed kernel bytes are what kernel.wat builds to",
  ignore: wabt === null,
  fn() {
    const built = assembleWat(
      wabt!,
      "kernel.wat",
      Deno.readTextFileSync(KERNEL_WAT),
    );
    assert.deepEqual(
      kernelBytes(),
      built,
      "kernel_wasm.ts is stale: run `deno task build:kernel`",
    );
    // The generated module is exactly what the build tool writes.
    assert.equal(
      Deno.readTextFileSync(KERNEL_WASM_MODULE),
      kernelModuleText(built),
    );
  },
});

Deno.test("the SIMD kernel computes the same keys as hashRowBytes", () => {
  assert.ok(
    wasmHashAvailable(),
    "WebAssembly SIMD should be available in Deno",
  );
  // Pseudo-random rows of 64, 128 and 4096 bytes, with one duplicate.
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  for (const rowBytes of [64, 128, 4096]) {
    const rows = 37;
    const bytes = Uint8Array.from({ length: rows * rowBytes }, next);
    bytes.copyWithin(30 * rowBytes, 4 * rowBytes, 5 * rowBytes);
    const wasm = new BlackHoleScanner(rows, rowBytes, {
      engine: "wasm",
      blockRows: 5,
    });
    const js = new BlackHoleScanner(rows, rowBytes, { engine: "js" });
    assert.equal(wasm.engine, "wasm");
    // One block from outside the kernel's memory (copied in 5-row pieces)...
    wasm.add(bytes.subarray(0, 20 * rowBytes));
    // ...and blocks read into the kernel's own buffers (hashed in place).
    const [b0] = wasm.blockBuffers();
    b0.set(bytes.subarray(20 * rowBytes, 25 * rowBytes));
    wasm.add(b0);
    wasm.add(bytes.subarray(25 * rowBytes));
    js.add(bytes);
    const view = new DataView(bytes.buffer);
    const direct = Array.from(
      { length: rows },
      (_, r) => hashRowBytes(view, r * rowBytes, rowBytes),
    );
    assert.deepEqual([...wasm.keys()], direct);
    assert.deepEqual([...js.keys()], direct);
    assert.equal(direct[30], direct[4]);
    assert.equal(new Set(direct).size, rows - 1);
    assert.deepEqual(wasm.candidates(), [[4, 30]]);
    for (const engine of ["wasm", "js"] as const) {
      const r = findBlackHoles({ bytes, rows, rowBytes }, { engine });
      assert.deepEqual(r.clusters, [{ population: 2, tokens: [4, 30] }]);
    }
  }
});

Deno.test("a single flipped bit changes the SIMD kernel's key", () => {
  const rowBytes = 128;
  const base = Uint8Array.from(
    { length: rowBytes },
    (_, i) => (i * 31 + 7) & 0xff,
  );
  // Row 0 is the base; row 1 + k flips bit k % 8 of byte k.
  const rows = 1 + rowBytes;
  const bytes = new Uint8Array(rows * rowBytes);
  bytes.set(base);
  for (let k = 0; k < rowBytes; k++) {
    bytes.set(base, (1 + k) * rowBytes);
    bytes[(1 + k) * rowBytes + k] ^= 1 << (k % 8);
  }
  const scanner = new BlackHoleScanner(rows, rowBytes, { engine: "wasm" });
  scanner.add(bytes);
  assert.equal(new Set(scanner.keys()).size, rows);
});

Deno.test("the SIMD kernel flags exactly the rows a scalar check flags", () => {
  // Random rows where each element has a small chance of an all-ones
  // exponent; compare the kernel with a plain per-element reference.
  let s = 987654321;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  for (const dtype of ["BF16", "F16", "F32", "F64"] as const) {
    const { size } = FLOAT_FORMATS[dtype];
    const rows = 300;
    const rowBytes = 192;
    const bytes = new Uint8Array(rows * rowBytes);
    const view = new DataView(bytes.buffer);
    const expMask = dtype === "F16"
      ? 0x7c00
      : dtype === "F64"
      ? 0x7ff0
      : 0x7f80;
    for (let i = 0; i < bytes.length; i += 2) {
      view.setUint16(i, next() >>> 16, true);
    }
    // Clear the exponents' top bit so no element is non-finite by chance,
    // then plant all-ones exponents in ~1 of 4 rows, anywhere in the row.
    for (let i = size - 2; i < bytes.length; i += size) {
      view.setUint16(i, view.getUint16(i, true) & ~0x4000, true);
    }
    for (let r = 0; r < rows; r++) {
      if ((next() >>> 24) < 64) {
        const e = (next() >>> 8) % (rowBytes / size);
        const at = r * rowBytes + e * size + size - 2;
        view.setUint16(at, view.getUint16(at, true) | expMask, true);
      }
    }
    const expected: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (
        let at = r * rowBytes + size - 2;
        at < (r + 1) * rowBytes;
        at += size
      ) {
        if ((view.getUint16(at, true) & expMask) === expMask) {
          expected.push(r);
          break;
        }
      }
    }
    assert.ok(expected.length > 30 && expected.length < 120, dtype);
    for (const engine of ["wasm", "js"] as const) {
      const r = findBlackHoles({ bytes, rows, rowBytes }, { dtype, engine });
      assert.deepEqual(r.nonFinite, expected, `${dtype} ${engine}`);
    }
  }
});
