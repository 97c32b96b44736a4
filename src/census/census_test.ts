import assert from "node:assert/strict";
import { CensusError, type CensusReport, runCensus } from "./census.ts";
import { SafetensorsError, writeSafetensors } from "../io/safetensors/mod.ts";
import type { CensusErrorCode } from "./census_error.ts";
import { runScript, withTempDir } from "../testing/helpers.ts";

const ROWS = 20;
const ROW_BYTES = 8; // 4 bf16 columns

/**
 * A [20, 4] BF16 embedding whose row r is the distinct pattern
 * [r, 1, 2, 3, 4, 5, 6, seed], except the planted clusters:
 * rows 7, 8, 9, 10 (4 rows), rows 0, 5, 19 (3 rows), rows 3, 4 (2 rows).
 * So C = 3, P = 9, populations 4, 3, 2.
 */
function plantedEmbedding(seed = 0): Uint8Array {
  const bytes = new Uint8Array(ROWS * ROW_BYTES);
  for (let r = 0; r < ROWS; r++) {
    bytes.set([r, 1, 2, 3, 4, 5, 6, seed], r * ROW_BYTES);
  }
  const plant = (rows: number[], pattern: number[]) => {
    for (const r of rows) bytes.set(pattern, r * ROW_BYTES);
  };
  plant([7, 8, 9, 10], [0xaa, 0, 0, 0, 0, 0, 0, 1]);
  plant([0, 5, 19], [0xbb, 0, 0, 0, 0, 0, 0, 2]);
  plant([3, 4], [0xcc, 0, 0, 0, 0, 0, 0, 3]);
  return bytes;
}

const EXPECTED_CLUSTERS = [
  { population: 4, tokens: [7, 8, 9, 10] },
  { population: 3, tokens: [0, 5, 19] },
  { population: 2, tokens: [3, 4] },
];

function emb(data: Uint8Array) {
  return { dtype: "BF16" as const, shape: [ROWS, 4], data };
}

function clustersOf(report: CensusReport, i = 0) {
  return report.tensors[i].clusters.map(({ population, tokens }) => ({
    population,
    tokens,
  }));
}

async function assertCensusRejects(
  path: string,
  code: CensusErrorCode,
  pattern: RegExp,
  options = {},
) {
  await assert.rejects(runCensus(path, options), (e: unknown) => {
    assert.ok(e instanceof CensusError, `expected CensusError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("runCensus() finds planted clusters exactly in a single file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await writeSafetensors(path, {
      "model.norm.weight": {
        dtype: "F32",
        shape: [4],
        data: new Float32Array(4),
      },
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    // Tiny blocks (3 rows) so clusters span block boundaries.
    const report = await runCensus(path, { blockBytes: 3 * ROW_BYTES });
    assert.equal(report.tensors.length, 1);
    const t = report.tensors[0];
    assert.equal(t.name, "model.embed_tokens.weight");
    assert.equal(t.role, "embedding+unembedding");
    assert.equal(t.dtype, "BF16");
    assert.deepEqual(t.shape, [20, 4]);
    assert.equal(t.C, 3);
    assert.equal(t.P, 9);
    assert.equal(t.distinct, 20 - 9 + 3);
    assert.deepEqual(clustersOf(report), EXPECTED_CLUSTERS);
    assert.equal(report.tying.status, "tied");
    assert.match(report.tying.detail, /no output-head tensor/);
    assert.equal(report.tokenizer, null);
    assert.equal(report.index, null);
    assert.deepEqual(report.files, [path]);
  });
});

Deno.test("runCensus() finds planted clusters in a matrix large enough for the SIMD kernel", async () => {
  await withTempDir(async (dir) => {
    // 20,000 rows of 32 bf16 (64 bytes): 1.2 MiB, read in 1 MiB blocks.
    // Row r holds r in its first 4 bytes (distinct); planted: rows 5, 16383,
    // 16384 (across the block boundary) and 19999 share one vector, rows 0
    // and 1 another.
    const rows = 20_000;
    const bytes = new Uint8Array(rows * 64);
    const view = new DataView(bytes.buffer);
    for (let r = 0; r < rows; r++) view.setUint32(r * 64, r, true);
    for (const r of [5, 16383, 16384, 19999]) {
      bytes.fill(0xab, r * 64, r * 64 + 64);
    }
    for (const r of [0, 1]) bytes.fill(0xcd, r * 64, r * 64 + 64);
    const path = `${dir}/big.safetensors`;
    await writeSafetensors(path, {
      "model.embed_tokens.weight": {
        dtype: "BF16",
        shape: [rows, 32],
        data: bytes,
      },
    });
    const report = await runCensus(path);
    assert.deepEqual(clustersOf(report), [
      { population: 4, tokens: [5, 16383, 16384, 19999] },
      { population: 2, tokens: [0, 1] },
    ]);
  });
});

Deno.test("runCensus() finds GPT-2 style names and F32 / F16 matrices", async () => {
  await withTempDir(async (dir) => {
    // F32 [20, 2] has the same 8-byte rows; F16 likewise.
    for (const dtype of ["F32", "F16"] as const) {
      const path = `${dir}/${dtype}.safetensors`;
      const shape = dtype === "F32" ? [ROWS, 2] : [ROWS, 4];
      await writeSafetensors(path, {
        "transformer.wte.weight": { dtype, shape, data: plantedEmbedding() },
      });
      const report = await runCensus(path);
      assert.equal(report.tensors[0].name, "transformer.wte.weight");
      assert.deepEqual(clustersOf(report), EXPECTED_CLUSTERS);
    }
  });
});

Deno.test("runCensus() tells tied from untied heads", async () => {
  await withTempDir(async (dir) => {
    const tiedPath = `${dir}/tied.safetensors`;
    await writeSafetensors(tiedPath, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
      "lm_head.weight": emb(plantedEmbedding()),
    });
    const tied = await runCensus(tiedPath, { blockBytes: 16 });
    assert.equal(tied.tying.status, "tied");
    assert.match(tied.tying.detail, /byte-identical/);
    assert.equal(tied.tensors.length, 1);
    assert.equal(tied.tensors[0].role, "embedding+unembedding");

    // The head differs from the embedding only in the last byte of row 19.
    const head = plantedEmbedding();
    head[ROWS * ROW_BYTES - 1] ^= 1;
    const untiedPath = `${dir}/untied.safetensors`;
    await writeSafetensors(untiedPath, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
      "lm_head.weight": emb(head),
    });
    const untied = await runCensus(untiedPath, { blockBytes: 16 });
    assert.equal(untied.tying.status, "untied");
    assert.deepEqual(untied.tensors.map((t) => [t.name, t.role]), [
      ["model.embed_tokens.weight", "embedding"],
      ["lm_head.weight", "unembedding"],
    ]);
    assert.deepEqual(clustersOf(untied, 0), EXPECTED_CLUSTERS);
    // Row 19 left the 3-row cluster of the head.
    assert.deepEqual(clustersOf(untied, 1), [
      { population: 4, tokens: [7, 8, 9, 10] },
      { population: 2, tokens: [0, 5] },
      { population: 2, tokens: [3, 4] },
    ]);
  });
});

Deno.test("runCensus() reads a sharded folder and labels tokens from tokenizer.json", async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(`${dir}/model-00001-of-00002.safetensors`, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    const head = plantedEmbedding(9); // every row differs from the embedding
    await writeSafetensors(`${dir}/model-00002-of-00002.safetensors`, {
      "lm_head.weight": emb(head),
      "model.norm.weight": {
        dtype: "F32",
        shape: [1],
        data: new Float32Array(1),
      },
    });
    await Deno.writeTextFile(
      `${dir}/model.safetensors.index.json`,
      JSON.stringify({
        metadata: { total_size: 328 },
        weight_map: {
          "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
          "lm_head.weight": "model-00002-of-00002.safetensors",
          "model.norm.weight": "model-00002-of-00002.safetensors",
        },
      }),
    );
    const vocab: Record<string, number> = {};
    for (let i = 0; i < 18; i++) vocab[`t${i}`] = i;
    vocab["Ġthe"] = 7;
    vocab["a\nb"] = 8;
    await Deno.writeTextFile(
      `${dir}/tokenizer.json`,
      JSON.stringify({
        model: { type: "BPE", vocab },
        added_tokens: [{ id: 19, content: "<|endoftext|>", special: true }],
      }),
    );
    const report = await runCensus(dir);
    assert.equal(report.index, `${dir}/model.safetensors.index.json`);
    assert.equal(report.files.length, 2);
    assert.equal(report.tying.status, "untied");
    assert.deepEqual(report.tokenizer, {
      path: `${dir}/tokenizer.json`,
      tokens: 19,
    });
    const t = report.tensors[0];
    assert.equal(t.file, `${dir}/model-00001-of-00002.safetensors`);
    assert.deepEqual(t.clusters.map((c) => c.labels), [
      ["Ġthe", "a\nb", "t9", "t10"],
      ["t0", "t5", "<|endoftext|>"],
      ["t3", "t4"],
    ]);
    assert.equal(
      report.tensors[1].file,
      `${dir}/model-00002-of-00002.safetensors`,
    );
    assert.deepEqual(clustersOf(report, 1), EXPECTED_CLUSTERS);
    // 20 rows, 19 named tokens: no warning (fewer names than rows is normal).
    assert.deepEqual(report.notes, []);
  });
});

Deno.test("runCensus() rejects broken model folders cleanly", async () => {
  await withTempDir(async (dir) => {
    await assertCensusRejects(
      `${dir}/nope`,
      "not-found",
      /no such file or folder/,
    );
    await assertCensusRejects(dir, "no-weights", /no \.safetensors file/);

    await writeSafetensors(`${dir}/model-00001-of-00002.safetensors`, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    const index = `${dir}/model.safetensors.index.json`;
    await Deno.writeTextFile(
      index,
      JSON.stringify({
        weight_map: {
          "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
          "lm_head.weight": "model-00002-of-00002.safetensors",
        },
      }),
    );
    await assertCensusRejects(
      dir,
      "missing-shard",
      /points at missing shard model-00002-of-00002\.safetensors \(holding 1 tensors, e\.g\. lm_head\.weight\)/,
    );

    await Deno.writeTextFile(index, "{ not json");
    await assertCensusRejects(dir, "bad-index", /not valid JSON/);
    await Deno.writeTextFile(index, JSON.stringify({ weight_map: [] }));
    await assertCensusRejects(dir, "bad-index", /no "weight_map" object/);
    await Deno.writeTextFile(
      index,
      JSON.stringify({ weight_map: { x: "../escape.safetensors" } }),
    );
    await assertCensusRejects(
      dir,
      "bad-index",
      /not a file name inside the model folder/,
    );
    await Deno.writeTextFile(
      index,
      JSON.stringify({
        weight_map: { "lm_head.weight": "model-00001-of-00002.safetensors" },
      }),
    );
    await assertCensusRejects(dir, "bad-index", /does not hold it/);
  });
});

Deno.test("runCensus() explains missing, odd and unsupported tensors", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/m.safetensors`;
    await writeSafetensors(path, {
      "encoder.weight": {
        dtype: "I32",
        shape: [2, 2],
        data: new Int32Array(4),
      },
      "cube": { dtype: "BF16", shape: [2, 2, 2], data: new Uint8Array(16) },
    });
    await assertCensusRejects(
      path,
      "no-embedding",
      /no embedding tensor found.*pass --tensor NAME\. Available: encoder\.weight, cube/,
    );
    const named = `${dir}/named.safetensors`;
    await writeSafetensors(named, {
      "a.weight": { dtype: "F32", shape: [2, 2], data: new Float32Array(4) },
      "enc.tok_embedding": emb(plantedEmbedding()),
      "dec.embed_bias": { dtype: "F32", shape: [2], data: new Float32Array(2) },
    });
    await assertCensusRejects(
      named,
      "no-embedding",
      /pass --tensor NAME\. 2-D tensors with embedding-like names: enc\.tok_embedding$/,
    );
    await assertCensusRejects(
      path,
      "unknown-tensor",
      /no tensor named "wte" in .*; available: encoder\.weight, cube/,
      { tensors: ["wte"] },
    );
    await assertCensusRejects(
      path,
      "unsupported-dtype",
      /"encoder\.weight" has unsupported dtype I32/,
      { tensors: ["encoder.weight"] },
    );
    await assertCensusRejects(path, "bad-tensor", /shape \[2, 2, 2\]/, {
      tensors: ["cube"],
    });

    const i8 = `${dir}/i8.safetensors`;
    await writeSafetensors(i8, {
      "model.embed_tokens.weight": {
        dtype: "I8",
        shape: [2, 2],
        data: new Int8Array(4),
      },
    });
    await assertCensusRejects(i8, "unsupported-dtype", /unsupported dtype I8/);
  });
});

Deno.test("runCensus() analyses exactly the tensors asked for", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/m.safetensors`;
    await writeSafetensors(path, {
      "custom.embedding": emb(plantedEmbedding()),
      "model.embed_tokens.weight": emb(plantedEmbedding(5)),
    });
    const report = await runCensus(path, { tensors: ["custom.embedding"] });
    assert.deepEqual(report.tensors.map((t) => [t.name, t.role]), [[
      "custom.embedding",
      "requested",
    ]]);
    assert.equal(report.tying.status, "not-checked");
    assert.deepEqual(clustersOf(report), EXPECTED_CLUSTERS);
  });
});

Deno.test("runCensus() keeps going with a broken tokenizer.json and says so", async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(`${dir}/model.safetensors`, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    await Deno.writeTextFile(`${dir}/tokenizer.json`, "{");
    const report = await runCensus(dir);
    assert.equal(report.tokenizer, null);
    assert.equal(report.tensors[0].clusters[0].labels, undefined);
    assert.deepEqual(clustersOf(report), EXPECTED_CLUSTERS);
    // Reported once, in its own field (not also as a note).
    assert.equal(report.tokenizerError?.path, `${dir}/tokenizer.json`);
    assert.match(report.tokenizerError?.reason ?? "", /^not valid JSON/);
    assert.deepEqual(report.notes, []);
    // A folder named tokenizer.json is unusable too, not absent.
    await Deno.remove(`${dir}/tokenizer.json`);
    await Deno.mkdir(`${dir}/tokenizer.json`);
    const folder = await runCensus(dir);
    assert.match(folder.tokenizerError?.reason ?? "", /^cannot read/);
  });
});

/** Safetensors images with one defect each (8-byte length, JSON, data). */
function malformed(): Array<[string, Uint8Array, RegExp]> {
  const enc = new TextEncoder();
  const image = (header: string, dataLength: number, lengthField?: bigint) => {
    const json = enc.encode(header);
    const out = new Uint8Array(8 + json.length + dataLength);
    new DataView(out.buffer).setBigUint64(
      0,
      lengthField ?? BigInt(json.length),
      true,
    );
    out.set(json, 8);
    return out;
  };
  const entry = (shape: string, offsets: string) =>
    `"model.embed_tokens.weight":{"dtype":"BF16","shape":${shape},"data_offsets":${offsets}}`;
  const good = image(`{${entry("[2,2]", "[0,8]")}}`, 8);
  return [
    [
      "truncated data",
      good.subarray(0, good.length - 3),
      /beyond the data section/,
    ],
    ["truncated prefix", good.subarray(0, 5), /too short/],
    ["header longer than file", image("{}", 0, 4096n), /exceeds the 2 bytes/],
    ["header over the cap", image("{}", 0, 1n << 40n), /cap/],
    ["invalid JSON", image('{"model.embed', 0), /not valid JSON/],
    [
      "overlapping offsets",
      image(
        `{${
          entry("[2,2]", "[0,8]")
        },"lm_head.weight":{"dtype":"BF16","shape":[2,2],"data_offsets":[4,12]}}`,
        12,
      ),
      /overlap/,
    ],
    [
      "offsets outside data",
      image(`{${entry("[2,2]", "[8,16]")}}`, 8),
      /beyond/,
    ],
    [
      "dtype x shape mismatch",
      image(`{${entry("[2,3]", "[0,8]")}}`, 8),
      /needs 12 bytes/,
    ],
  ];
}

Deno.test("runCensus() rejects each malformed file with a SafetensorsError", async () => {
  await withTempDir(async (dir) => {
    for (const [what, bytes, pattern] of malformed()) {
      const path = `${dir}/bad.safetensors`;
      await Deno.writeFile(path, bytes);
      await assert.rejects(runCensus(path), (e: unknown) => {
        assert.ok(e instanceof SafetensorsError, `${what}: got ${e}`);
        assert.match(e.message, pattern, what);
        return true;
      });
    }
  });
});

const CLI = new URL("../cli/census.ts", import.meta.url).pathname;

function runCli(args: string[]) {
  return runScript(CLI, args);
}

function assertOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  assert.ok(lines[0].startsWith("error: "), `stderr: ${stderr}`);
  assert.match(lines[0], pattern);
  assert.ok(!/\n\s+at /.test(stderr), `stack trace in stderr: ${stderr}`);
  assert.ok(lines.length <= 2, `too many lines: ${stderr}`);
}

Deno.test("census CLI: bad files give one error line and exit 1", async () => {
  await withTempDir(async (dir) => {
    for (const [what, bytes, pattern] of malformed().slice(0, 3)) {
      const path = `${dir}/bad.safetensors`;
      await Deno.writeFile(path, bytes);
      const r = await runCli([path]);
      assert.equal(r.code, 1, what);
      assertOneLineError(r.stderr, pattern);
      assert.equal(r.stdout, "");
    }
    const missing = await runCli([`${dir}/absent`]);
    assert.equal(missing.code, 1);
    assertOneLineError(missing.stderr, /no such file or folder/);
  });
});

Deno.test("census CLI: bad usage exits 2", async () => {
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assertOneLineError(none.stderr, /missing <path>/);
  const unknown = await runCli(["x.safetensors", "--bogus"]);
  assert.equal(unknown.code, 2);
  assertOneLineError(unknown.stderr, /bogus/);
  const top = await runCli(["x.safetensors", "--top", "0"]);
  assert.equal(top.code, 2);
  assertOneLineError(top.stderr, /--top must be a positive integer/);
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: deno task census <path>/);
});

Deno.test("census CLI: --json, summary and --out report", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await writeSafetensors(path, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    const json = await runCli([path, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as CensusReport;
    assert.equal(parsed.tensors[0].C, 3);
    assert.equal(parsed.tensors[0].P, 9);
    assert.deepEqual(clustersOf(parsed), EXPECTED_CLUSTERS);

    const out = `${dir}/report.md`;
    const text = await runCli([path, "--out", out, "--top", "2"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /C = 3 clusters, P = 9 rows/);
    assert.match(text.stdout, /largest clusters \(2 of 3\)/);
    const md = await Deno.readTextFile(out);
    assert.match(
      md,
      /\| `model\.embed_tokens\.weight` \| embedding and output head \| 20 x 4 \| BF16 \| 3 \| 9 \| 14 \| 4, 3, 2 \|/,
    );
    assert.match(md, /\| 1 \| 4 \| `7`, `8`, `9`, `10` \|/);
    assert.ok(!md.includes("| 3 | 2 |"), "--top 2 lists two clusters");
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["model.safetensors", "report.md"]);
  });
});

// ---------------------------------------------------------------------------
// Non-finite rows, --out safety, usage and other mistakes.
// ---------------------------------------------------------------------------

/** Top 16 bits of NaN / +Inf, and element size, per stored format. */
const FLOATS = {
  BF16: { size: 2, nan: 0x7fc0, inf: 0x7f80 },
  F16: { size: 2, nan: 0x7e00, inf: 0x7c00 },
  F32: { size: 4, nan: 0x7fc0, inf: 0x7f80 },
  F64: { size: 8, nan: 0x7ff8, inf: 0x7ff0 },
} as const;

/**
 * The planted [20, 8-byte] embedding with, on top, rows 11, 12, 13 one
 * identical all-NaN vector and rows 14, 15 one identical vector with -Inf
 * in its last element: neither may form a cluster.
 */
function withNonFinite(dtype: keyof typeof FLOATS): Uint8Array {
  const { size, nan, inf } = FLOATS[dtype];
  const bytes = plantedEmbedding();
  const view = new DataView(bytes.buffer);
  for (const r of [11, 12, 13]) {
    bytes.fill(0, r * ROW_BYTES, (r + 1) * ROW_BYTES);
    for (let e = 0; e < ROW_BYTES / size; e++) {
      view.setUint16(r * ROW_BYTES + e * size + size - 2, nan, true);
    }
  }
  for (const r of [14, 15]) {
    bytes.fill(7, r * ROW_BYTES, (r + 1) * ROW_BYTES);
    view.setUint16((r + 1) * ROW_BYTES - 2, 0x8000 | inf, true);
  }
  return bytes;
}

Deno.test("runCensus() never counts NaN/Inf rows as black holes, in any float dtype", async () => {
  await withTempDir(async (dir) => {
    for (const dtype of ["BF16", "F16", "F32", "F64"] as const) {
      const path = `${dir}/${dtype}.safetensors`;
      await writeSafetensors(path, {
        "model.embed_tokens.weight": {
          dtype,
          shape: [ROWS, ROW_BYTES / FLOATS[dtype].size],
          data: withNonFinite(dtype),
        },
      });
      const report = await runCensus(path, { blockBytes: 3 * ROW_BYTES });
      const t = report.tensors[0];
      assert.deepEqual(clustersOf(report), EXPECTED_CLUSTERS, dtype);
      assert.equal(t.C, 3, dtype);
      assert.equal(t.P, 9, dtype);
      assert.deepEqual(t.nonFinite, [11, 12, 13, 14, 15], dtype);
      assert.equal(t.distinct, ROWS - 5 - 9 + 3, dtype);
      assert.equal(t.nonFiniteLabels, undefined); // no tokenizer
    }
  });
});

Deno.test("runCensus() of a diverged model (every row the same NaN) finds no black hole", async () => {
  await withTempDir(async (dir) => {
    // 128 rows and, separately, 20,000 rows of 64 bytes (SIMD kernel path).
    for (const rows of [128, 20_000]) {
      const data = new Uint16Array(rows * 32).fill(0x7fc0); // BF16 NaN
      await writeSafetensors(`${dir}/model.safetensors`, {
        "model.embed_tokens.weight": {
          dtype: "BF16",
          shape: [rows, 32],
          data: new Uint8Array(data.buffer),
        },
      });
      const vocab: Record<string, number> = { "a": 0, "b": 1 };
      await Deno.writeTextFile(
        `${dir}/tokenizer.json`,
        JSON.stringify({ model: { vocab } }),
      );
      const report = await runCensus(dir);
      const t = report.tensors[0];
      assert.equal(t.C, 0);
      assert.equal(t.P, 0);
      assert.equal(t.distinct, 0);
      assert.deepEqual(t.clusters, []);
      assert.equal(t.nonFinite.length, rows);
      assert.equal(t.nonFinite[rows - 1], rows - 1);
      assert.deepEqual(t.nonFiniteLabels?.slice(0, 3), ["a", "b", null]);
    }
  });
});

Deno.test("runCensus() hands every input file to beforeScan before reading tensor data", async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(`${dir}/a.safetensors`, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    await writeSafetensors(`${dir}/b.safetensors`, {
      "lm_head.weight": emb(plantedEmbedding()),
    });
    await Deno.writeTextFile(
      `${dir}/model.safetensors.index.json`,
      JSON.stringify({
        weight_map: {
          "model.embed_tokens.weight": "a.safetensors",
          "lm_head.weight": "b.safetensors",
        },
      }),
    );
    await Deno.writeTextFile(`${dir}/tokenizer.json`, "garbage");
    let seen: readonly string[] = [];
    await assert.rejects(
      runCensus(dir, {
        beforeScan: (inputs) => {
          seen = inputs;
          throw new Error("stop here");
        },
      }),
      /stop here/,
    );
    assert.deepEqual(seen, [
      `${dir}/a.safetensors`,
      `${dir}/b.safetensors`,
      `${dir}/model.safetensors.index.json`,
      `${dir}/tokenizer.json`,
    ]);
  });
});

/** Asserts exactly one stderr line, starting "error: " and matching. */
function assertSingleErrorLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line: ${stderr}`);
  assert.ok(lines[0].startsWith("error: "), stderr);
  assert.match(lines[0], pattern);
}

Deno.test("census CLI: --out never overwrites an input, through any name", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/model.safetensors`;
    await writeSafetensors(model, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    await Deno.writeTextFile(
      `${dir}/tokenizer.json`,
      JSON.stringify({ model: { vocab: { a: 0 } } }),
    );
    const original = await Deno.readFile(model);
    const tokenizer = await Deno.readTextFile(`${dir}/tokenizer.json`);
    await Deno.mkdir(`${dir}/elsewhere`);
    await Deno.symlink(model, `${dir}/elsewhere/link.md`);
    await Deno.link(model, `${dir}/elsewhere/hard.md`);
    await Deno.symlink(dir, `${dir}/elsewhere/dirlink`);
    const cases: Array<[string[], RegExp]> = [
      [[model, "--out", model], /is an input of this census/],
      [[model, "--out", model, "--force"], /is an input of this census/],
      [[model, "--out", `${dir}/elsewhere/link.md`, "--force"], /same file as/],
      [[model, "--out", `${dir}/elsewhere/hard.md`, "--force"], /same file as/],
      [
        [`${dir}/elsewhere/dirlink`, "--out", `${dir}/tokenizer.json`],
        /same file as .*tokenizer\.json, an input/,
      ],
      [[dir, "--out", `${dir}/tokenizer.json`, "--force"], /an input/],
      [
        [dir, "--out", `${dir}/./model.safetensors`],
        /same file as .*, an input/,
      ],
      [[dir, "--out", `${dir}/new.safetensors`], /\.safetensors name/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assertSingleErrorLine(r.stderr, pattern);
      assert.equal(r.stdout, "");
    }
    assert.deepEqual(await Deno.readFile(model), original);
    assert.equal(await Deno.readTextFile(`${dir}/tokenizer.json`), tokenizer);
  });
});

Deno.test("census CLI: --out replaces only census reports unless --force", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/model.safetensors`;
    await writeSafetensors(model, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    const notes = `${dir}/notes.md`;
    await Deno.writeTextFile(notes, "# my notes\n");
    const refused = await runCli([model, "--out", notes]);
    assert.equal(refused.code, 2);
    assertSingleErrorLine(
      refused.stderr,
      /notes\.md exists and is not a census report; pass --force/,
    );
    assert.equal(await Deno.readTextFile(notes), "# my notes\n");
    // A hand-written page that merely starts like a census report.
    const page = `${dir}/census.md`;
    await Deno.writeTextFile(
      page,
      "# Census: black holes in real checkpoints\n",
    );
    assert.equal((await runCli([model, "--out", page])).code, 2);

    const forced = await runCli([model, "--out", notes, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(
      await Deno.readTextFile(notes),
      /^# Census: `model\.safetensors`/,
    );
    // Now a census report: replaced without --force, and so is a --json one.
    const again = await runCli([model, "--out", notes, "--top", "1"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(await Deno.readTextFile(notes), /The 1 largest/);
    const json = `${dir}/report.json`;
    const printed = await runCli([model, "--json"]);
    await Deno.writeTextFile(json, printed.stdout);
    const overJson = await runCli([model, "--out", json]);
    assert.equal(overJson.code, 0, overJson.stderr);
    assert.match(await Deno.readTextFile(json), /^# Census: /);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, [
      "census.md",
      "model.safetensors",
      "notes.md",
      "report.json",
    ]);
  });
});

Deno.test("census CLI: --out is checked before the model is even opened", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    // The model path does not exist: a bad --out must still be what is
    // reported (exit 2), as it is checked first.
    const missing = `${dir}/no-model`;
    const cases: Array<[string, RegExp]> = [
      [dir, /is a folder/],
      [`${dir}/sub/`, /names a folder/],
      [`${dir}/absent/r.md`, /folder .*absent does not exist/],
      [`${dir}/file/r.md`, /cannot access|is not a folder/],
      ["/dev/null", /not a regular file/],
    ];
    for (const [out, pattern] of cases) {
      const r = await runCli([missing, "--out", out]);
      assert.equal(r.code, 2, `--out ${out}: ${r.stderr}`);
      assertSingleErrorLine(r.stderr, pattern);
    }
    const force = await runCli([missing, "--force"]);
    assert.equal(force.code, 2);
    assertSingleErrorLine(force.stderr, /--force only applies to --out/);
  });
});

Deno.test("census CLI: an unknown option is one line listing the valid options", async () => {
  const r = await runCli(["x.safetensors", "--bogus"]);
  assert.equal(r.code, 2);
  assertSingleErrorLine(r.stderr, /'--bogus'/);
  for (const name of ["tensor", "json", "out", "force", "top", "help"]) {
    assert.ok(
      r.stderr.includes(`--${name}`),
      `${name} not listed: ${r.stderr}`,
    );
  }
  assert.equal(r.stdout, "");
});

Deno.test("census CLI: a garbage tokenizer.json is one warning, never 'absent'", async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(`${dir}/model.safetensors`, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    await Deno.writeTextFile(`${dir}/tokenizer.json`, "\u0000garbage");
    const r = await runCli([dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout.split("tokenizer.json").length - 1, 1, r.stdout);
    assert.match(
      r.stdout,
      /^ {2}tokenizer: {3}warning: .*tokenizer\.json: not valid JSON .*; ignored, token ids are shown instead$/m,
    );
    assert.ok(!/no tokenizer\.json|none/.test(r.stdout), r.stdout);
    assert.match(r.stdout, /1\. +4 rows: 7, 8, 9, 10$/m); // numeric ids
  });
});

Deno.test("census CLI: NaN/Inf rows are listed apart in the summary, JSON and report", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/model.safetensors`;
    await writeSafetensors(model, {
      "model.embed_tokens.weight": emb(withNonFinite("BF16")),
    });
    const out = `${dir}/r.md`;
    const r = await runCli([model, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /C = 3 clusters, P = 9 rows; 9 distinct finite rows of 20/,
    );
    assert.match(
      r.stdout,
      /^ {2}5 rows hold NaN\/Inf values \(excluded from clusters\): 11, 12, 13, 14, 15$/m,
    );
    assert.match(
      await Deno.readTextFile(out),
      /^\*\*5 rows hold NaN\/Inf values \(excluded from clusters\):\*\* `11`, `12`, `13`, `14`, `15`$/m,
    );
    const json = JSON.parse((await runCli([model, "--json"])).stdout);
    assert.deepEqual(json.tensors[0].nonFinite, [11, 12, 13, 14, 15]);
    assert.equal(json.tensors[0].C, 3);
  });
});

Deno.test("census CLI: other mistakes are one error line, never a stack trace", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/empty`);
    await Deno.mkdir(`${dir}/odd/model.safetensors`, { recursive: true });
    const fifo = `${dir}/fifo`;
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    await writeSafetensors(`${dir}/m.safetensors`, {
      "model.embed_tokens.weight": emb(plantedEmbedding()),
    });
    const cases: Array<[string[], number, RegExp]> = [
      [[""], 2, /<path> is empty/],
      [[`${dir}/empty`], 1, /no \.safetensors file/],
      [[`${dir}/odd`], 1, /model\.safetensors is not a file/],
      [[fifo], 1, /not a file or folder/],
      [[`${dir}/m.safetensors`, "--tensor", ""], 1, /no tensor named ""/],
      [[`${dir}/m.safetensors`, "--top"], 2, /--top/],
      [[`${dir}/m.safetensors`, "--top", "1e3"], 2, /--top must be/],
      [[`${dir}/m.safetensors`, "--json=yes"], 2, /--json/],
      [["a", "b"], 2, /expected one <path>, got 2/],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, code, `${JSON.stringify(args)}: ${r.stderr}`);
      assertSingleErrorLine(r.stderr, pattern);
      assert.ok(!/\n\s+at /.test(r.stderr), r.stderr);
    }
  });
});

Deno.test("runCensus() of a [10, 0] embedding refuses: empty rows are nothing to compare", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/empty-rows.safetensors`;
    await writeSafetensors(path, {
      "model.embed_tokens.weight": {
        dtype: "F32",
        shape: [10, 0],
        data: new Float32Array(0),
      },
    });
    await assertCensusRejects(
      path,
      "bad-tensor",
      /shape \[10, 0\]: rows of width 0 hold no values, so there is nothing to compare/,
    );
  });
});
