import assert from "node:assert/strict";
import { runCensus } from "../census.ts";
import { CensusError } from "../census_error.ts";
import { runScript, withTempDir } from "../../testing/helpers.ts";
import { GgufError, type GgufErrorCode } from "./error.ts";
import {
  encodeGguf,
  type GgufSpec,
  quantizeQ4_0,
  quantizeQ8_0,
  quantizeRows,
  toF16Bytes,
  toF32Bytes,
  writeGguf,
} from "./write_gguf.ts";

const ROWS = 40;
const COLS = 64; // two 32-element blocks of Q8_0 / Q4_0
const TOKENS = Array.from({ length: ROWS }, (_, i) => `tok${i}`);

/** Deterministic values in [-1, 1) (mulberry32). */
function randomMatrix(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

/**
 * A [40, 64] matrix of distinct random rows, except planted clusters: rows
 * 3, 7, 20 share one vector and rows 5, 6 another (C = 2, P = 5).
 */
function plantedMatrix(): Float32Array {
  const m = randomMatrix(1, ROWS * COLS);
  const copy = (from: number, to: number) =>
    m.copyWithin(to * COLS, from * COLS, (from + 1) * COLS);
  copy(3, 7);
  copy(3, 20);
  copy(5, 6);
  return m;
}

const EXPECTED = [
  { population: 3, tokens: [3, 7, 20], labels: ["tok3", "tok7", "tok20"] },
  { population: 2, tokens: [5, 6], labels: ["tok5", "tok6"] },
];

function model(type: string, data: Uint8Array, extra: Partial<GgufSpec> = {}) {
  return {
    metadata: {
      "general.architecture": "llama",
      "tokenizer.ggml.tokens": TOKENS,
    },
    tensors: [{ name: "token_embd.weight", type, shape: [ROWS, COLS], data }],
    ...extra,
  };
}

function encodeAs(type: "F16" | "F32" | "Q8_0" | "Q4_0", m: Float32Array) {
  if (type === "F16") return toF16Bytes(m);
  if (type === "F32") return toF32Bytes(m);
  return quantizeRows(m, COLS, type === "Q8_0" ? quantizeQ8_0 : quantizeQ4_0);
}

for (const type of ["F16", "Q8_0", "Q4_0"] as const) {
  Deno.test(`GGUF census counts planted identical ${type} rows exactly`, async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/model-${type}.gguf`;
      await writeGguf(path, model(type, encodeAs(type, plantedMatrix())));
      const report = await runCensus(path);
      const [t] = report.tensors;
      assert.equal(report.tensors.length, 1);
      assert.deepEqual(
        [t.name, t.role, t.dtype, t.shape, t.C, t.P, t.distinct],
        [
          "token_embd.weight",
          "embedding+unembedding",
          type,
          [ROWS, COLS],
          2,
          5,
          37,
        ],
      );
      assert.deepEqual(t.clusters, EXPECTED);
      assert.equal(report.tying.status, "tied"); // no output.weight stored
      assert.deepEqual(report.tokenizer, { path, tokens: ROWS });
      const blocks = type === "F16" ? 1 : 32;
      assert.equal(t.storage?.blockSize, blocks);
      assert.equal(t.storage?.wholeBlocks, true);
      assert.ok(
        report.notes.some((n) => n.startsWith(`token_embd.weight: ${type}`)),
      );
    });
  });
}

/**
 * Rows that differ as floats but not once quantized: every value of `base`
 * is a multiple of a step the quantizer keeps exactly, and `near` moves
 * each non-extreme value by a fifth of that step.
 */
function nearRows(kind: "Q8_0" | "Q4_0"): { base: number[]; near: number[] } {
  const step = 0.25; // Q8_0: d = 127 * 0.25 / 127; Q4_0: d = -8 * 0.25 / -8
  const base: number[] = [];
  const near: number[] = [];
  for (let j = 0; j < COLS; j++) {
    const extreme = j % 32 === 0;
    const q = kind === "Q8_0"
      ? (extreme ? 127 : (j * 37) % 200 - 100)
      : (extreme ? -8 : (j * 5) % 15 - 7);
    base.push(q * step);
    near.push(q * step + (extreme ? 0 : 0.2 * step));
  }
  return { base, near };
}

for (const kind of ["Q8_0", "Q4_0"] as const) {
  Deno.test(`GGUF census: distinct float rows that quantize alike are one ${kind} vector`, async () => {
    await withTempDir(async (dir) => {
      const m = randomMatrix(2, ROWS * COLS);
      const { base, near } = nearRows(kind);
      m.set(base, 10 * COLS);
      m.set(near, 11 * COLS);
      m.set(near.map((v, j) => j % 32 === 0 ? v : v - 0.1 * 0.25), 30 * COLS);
      // As F32 the three rows differ: no cluster.
      await writeGguf(`${dir}/f32.gguf`, model("F32", encodeAs("F32", m)));
      const f32 = (await runCensus(`${dir}/f32.gguf`)).tensors[0];
      assert.deepEqual([f32.C, f32.P], [0, 0]);
      // Quantized they are one vector to the model.
      await writeGguf(`${dir}/q.gguf`, model(kind, encodeAs(kind, m)));
      const q = (await runCensus(`${dir}/q.gguf`)).tensors[0];
      assert.deepEqual([q.C, q.P], [1, 3]);
      assert.deepEqual(q.clusters[0].tokens, [10, 11, 30]);
    });
  });
}

Deno.test("GGUF census compares Q4_K, Q6_K and BF16 rows as their stored blocks", async () => {
  await withTempDir(async (dir) => {
    for (
      const [type, blockBytes] of [["Q4_K", 144], ["Q6_K", 210], [
        "BF16",
        512,
      ]] as const
    ) {
      const cols = 256; // one K-quant super-block per row
      const bytes = new Uint8Array(ROWS * blockBytes);
      const noise = randomMatrix(3, bytes.length);
      bytes.forEach((_, i) => bytes[i] = Math.floor((noise[i] + 1) * 128));
      const row = (r: number) =>
        bytes.subarray(r * blockBytes, (r + 1) * blockBytes);
      row(9).set(row(2));
      row(33).set(row(2));
      const path = `${dir}/${type}.gguf`;
      await writeGguf(path, {
        tensors: [{
          name: "token_embd.weight",
          type,
          shape: [ROWS, cols],
          data: bytes,
        }],
      });
      const [t] = (await runCensus(path)).tensors;
      assert.deepEqual([t.dtype, t.C, t.P], [type, 1, 3], type);
      assert.deepEqual(t.clusters[0].tokens, [2, 9, 33]);
      assert.equal(t.storage?.blocksPerRow, type === "BF16" ? 256 : 1);
    }
  });
});

Deno.test("GGUF census: an untied output.weight is analysed too, a copy is tied", async () => {
  await withTempDir(async (dir) => {
    const embd = toF16Bytes(plantedMatrix());
    const head = quantizeRows(randomMatrix(9, ROWS * COLS), COLS, quantizeQ8_0);
    const spec = (out: { type: string; data: Uint8Array }) => ({
      tensors: [
        {
          name: "token_embd.weight",
          type: "F16",
          shape: [ROWS, COLS],
          data: embd,
        },
        { name: "output.weight", shape: [ROWS, COLS], ...out },
      ],
    });
    await writeGguf(`${dir}/untied.gguf`, spec({ type: "Q8_0", data: head }));
    const untied = await runCensus(`${dir}/untied.gguf`);
    assert.equal(untied.tying.status, "untied");
    assert.deepEqual(
      untied.tensors.map((t) => [t.name, t.role, t.dtype, t.C]),
      [["token_embd.weight", "embedding", "F16", 2], [
        "output.weight",
        "unembedding",
        "Q8_0",
        0,
      ]],
    );
    await writeGguf(`${dir}/tied.gguf`, spec({ type: "F16", data: embd }));
    assert.equal((await runCensus(`${dir}/tied.gguf`)).tying.status, "tied");
  });
});

Deno.test("GGUF census finds the one .gguf file of a folder; refuses two", async () => {
  await withTempDir(async (dir) => {
    await writeGguf(`${dir}/a.gguf`, model("F16", toF16Bytes(plantedMatrix())));
    const report = await runCensus(dir);
    assert.deepEqual(report.files, [`${dir}/a.gguf`]);
    assert.equal(report.tensors[0].P, 5);
    await writeGguf(`${dir}/b.gguf`, model("F16", toF16Bytes(plantedMatrix())));
    await assert.rejects(
      runCensus(dir),
      (e: unknown) =>
        e instanceof GgufError && e.code === "ambiguous" &&
        /2 \.gguf files .*a\.gguf, b\.gguf/.test(e.message),
    );
  });
});

Deno.test("GGUF census refuses other types by name", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/q5k.gguf`;
    await writeGguf(path, {
      tensors: [{
        name: "token_embd.weight",
        type: "Q5_K",
        shape: [4, 256],
        data: new Uint8Array(4 * 176),
      }],
    });
    await assert.rejects(
      runCensus(path),
      (e: unknown) =>
        e instanceof CensusError && e.code === "unsupported-dtype" &&
        /Q5_K .*Q8_0, Q4_0, Q4_K, Q6_K/.test(e.message),
    );
  });
});

/** A valid small file, then damaged by `damage`. */
function damaged(damage: (bytes: Uint8Array) => Uint8Array, spec?: GgufSpec) {
  return damage(encodeGguf(spec ?? model("F16", toF16Bytes(plantedMatrix()))));
}

function setU32(at: number, v: number) {
  return (b: Uint8Array) => {
    new DataView(b.buffer).setUint32(at, v, true);
    return b;
  };
}

const F16_DATA = toF16Bytes(plantedMatrix());
const MALFORMED: Array<[string, GgufErrorCode, RegExp, () => Uint8Array]> = [
  [
    "bad magic",
    "bad-magic",
    /not a GGUF file \(starts with 47 47 55 47/,
    () =>
      damaged((b) => {
        b[3] = 0x47;
        return b;
      }),
  ],
  [
    "version 1",
    "bad-version",
    /unsupported GGUF version 1 .*versions 2 and 3/,
    () => damaged(setU32(4, 1)),
  ],
  [
    "big-endian version",
    "bad-version",
    /version 50331648 \(a big-endian file\?\)/,
    () => damaged(setU32(4, 0x03000000)),
  ],
  [
    "truncated header",
    "truncated",
    /truncated: the file ends at byte 100 inside the header/,
    () => damaged((b) => b.slice(0, 100)),
  ],
  [
    "huge metadata count",
    "truncated",
    /the metadata count claims \d+ entries/,
    () =>
      damaged((b) => {
        new DataView(b.buffer).setBigUint64(16, 1n << 40n, true);
        return b;
      }),
  ],
  [
    "tensor past the end",
    "past-end",
    /tensor "token_embd.weight" \(F16 \[40, 64\].*extends past the end/,
    () => damaged((b) => b.slice(0, b.length - 7)),
  ],
  [
    "unknown type",
    "unknown-type",
    /tensor "token_embd.weight" has unknown ggml type id 99/,
    () =>
      encodeGguf({
        tensors: [{
          name: "token_embd.weight",
          type: "F16",
          shape: [ROWS, COLS],
          data: F16_DATA,
          typeId: 99,
        }],
      }),
  ],
  [
    "removed type",
    "unknown-type",
    /unknown ggml type id 4\b/,
    () =>
      encodeGguf({
        tensors: [{
          name: "token_embd.weight",
          type: "F16",
          shape: [ROWS, COLS],
          data: F16_DATA,
          typeId: 4,
        }],
      }),
  ],
  [
    "misaligned tensor",
    "bad-alignment",
    /starts at data offset 2, not a multiple of the alignment 32/,
    () =>
      encodeGguf({
        tensors: [{
          name: "token_embd.weight",
          type: "F16",
          shape: [ROWS, COLS],
          data: F16_DATA,
          offset: 2,
        }],
      }),
  ],
  [
    "alignment not a power of two",
    "bad-alignment",
    /general.alignment is 24, not a power of two/,
    () =>
      encodeGguf({
        metadata: { "general.alignment": 24 },
        tensors: [{
          name: "token_embd.weight",
          type: "F16",
          shape: [ROWS, COLS],
          data: F16_DATA,
        }],
      }),
  ],
  [
    "rows not whole blocks",
    "bad-tensor",
    /rows of 40 elements, not a whole number of 32-element blocks/,
    () =>
      encodeGguf({
        tensors: [{
          name: "token_embd.weight",
          type: "Q8_0",
          shape: [2, 40],
          data: new Uint8Array(68),
        }],
      }),
  ],
];

for (const [what, code, message, bytes] of MALFORMED) {
  Deno.test(`GGUF census: ${what} is one error naming the problem`, async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/bad.gguf`;
      await Deno.writeFile(path, bytes());
      await assert.rejects(runCensus(path), (e: unknown) => {
        assert.ok(e instanceof GgufError, String(e));
        assert.equal(e.code, code);
        assert.ok(e.message.startsWith(`${path}: `), e.message);
        assert.match(e.message, message);
        assert.ok(!e.message.includes("\n"));
        return true;
      });
    });
  });
}

const CLI = new URL("../../cli/census.ts", import.meta.url).pathname;

Deno.test("census CLI on GGUF: JSON keeps the census shape; a bad file is one line, exit 1", async () => {
  await withTempDir(async (dir) => {
    await writeGguf(
      `${dir}/m.gguf`,
      model("Q4_0", encodeAs("Q4_0", plantedMatrix())),
    );
    const ok = await runScript(CLI, [`${dir}/m.gguf`, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    const json = JSON.parse(ok.stdout);
    assert.deepEqual(
      [json.tensors[0].C, json.tensors[0].P, json.tensors[0].clusters],
      [2, 5, EXPECTED],
    );
    assert.equal(json.tensors[0].storage.blockBytes, 18);
    await Deno.writeFile(`${dir}/bad.gguf`, damaged((b) => b.slice(0, 100)));
    const bad = await runScript(CLI, [`${dir}/bad.gguf`]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "");
    assert.match(
      bad.stderr,
      /^error: .*bad\.gguf: truncated: the file ends at byte 100 inside the header .*\n$/,
    );
  });
});
