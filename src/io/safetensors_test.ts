import assert from "node:assert/strict";
import {
  bf16BytesToFloat32,
  createSafetensorsStreamWriter,
  f16BytesToFloat32,
  float32ToBf16Bytes,
  openSafetensors,
  parseSafetensors,
  SafetensorsError,
  type SafetensorsErrorCode,
  writeSafetensors,
} from "./safetensors.ts";
import { listDir, withTempDir } from "../testing/helpers.ts";

const enc = new TextEncoder();

/** A file image: 8-byte LE length, header text, then `data`. */
function craft(
  header: string,
  data: number[] | Uint8Array = [],
  lengthField?: bigint,
): Uint8Array {
  const json = enc.encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(
    0,
    lengthField ?? BigInt(json.length),
    true,
  );
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function assertOpenRejects(
  dir: string,
  bytes: Uint8Array,
  code: SafetensorsErrorCode,
  pattern: RegExp,
) {
  const path = `${dir}/case.safetensors`;
  await Deno.writeFile(path, bytes);
  await assert.rejects(openSafetensors(path), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `not a SafetensorsError: ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.ok(e.message.startsWith(path), "message names the file");
    return true;
  });
  // The in-memory parser applies the same checks.
  assert.throws(() => parseSafetensors(bytes), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError);
    assert.equal(e.code, code);
    return true;
  });
}

Deno.test("writeSafetensors() writes the exact bytes of the format", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/a.safetensors`;
    await writeSafetensors(path, {
      a: { dtype: "F32", shape: [2], data: new Float32Array([1, -2]) },
    });
    // Hand-counted: 54 characters of JSON, padded with 2 spaces to 56.
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    assert.equal(json.length, 54);
    const expected = new Uint8Array([
      ...[56, 0, 0, 0, 0, 0, 0, 0],
      ...enc.encode(json),
      0x20,
      0x20,
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0f = 0x3f800000, little-endian
      ...[0x00, 0x00, 0x00, 0xc0], // -2.0f = 0xc0000000
    ]);
    assert.deepEqual(await Deno.readFile(path), expected);
    assert.deepEqual(await listDir(dir), ["a.safetensors"]);
  });
});

Deno.test("writeSafetensors() puts metadata first and keeps insertion order", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/m.safetensors`;
    await writeSafetensors(path, {
      z: { dtype: "U8", shape: [3], data: new Uint8Array([7, 8, 9]) },
      b: { dtype: "BF16", shape: [1, 2], data: new Uint8Array([1, 2, 3, 4]) },
    }, { metadata: { k: "v" } });
    const json = '{"__metadata__":{"k":"v"},' +
      '"z":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},' +
      '"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[3,7]}}';
    // 26 + 52 + 56 = 134 characters, padded with 2 spaces to 136.
    assert.equal(json.length, 134);
    const bytes = await Deno.readFile(path);
    assert.equal(bytes.length, 8 + 136 + 7);
    assert.deepEqual(
      bytes.subarray(0, 8),
      new Uint8Array([136, 0, 0, 0, 0, 0, 0, 0]),
    );
    assert.equal(
      new TextDecoder().decode(bytes.subarray(8, 144)),
      json + "  ",
    );
    assert.deepEqual(
      bytes.subarray(144),
      new Uint8Array([7, 8, 9, 1, 2, 3, 4]),
    );
  });
});

Deno.test("openSafetensors() round-trips tensors, metadata and rows", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/r.safetensors`;
    const w = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const ids = new Int32Array([-1, 5]);
    await writeSafetensors(path, {
      "model.embed_tokens.weight": { dtype: "F32", shape: [4, 3], data: w },
      ids: { dtype: "I32", shape: [2], data: ids },
      empty: { dtype: "F64", shape: [0, 5], data: new Float64Array(0) },
      flag: { dtype: "BOOL", shape: [], data: new Uint8Array([1]) },
    }, { metadata: { format: "pt" } });
    const file = await openSafetensors(path);
    try {
      assert.deepEqual(file.metadata, { format: "pt" });
      assert.deepEqual(file.names(), [
        "model.embed_tokens.weight",
        "ids",
        "empty",
        "flag",
      ]);
      const info = file.tensor("model.embed_tokens.weight");
      assert.equal(info.dtype, "F32");
      assert.deepEqual(info.shape, [4, 3]);
      assert.equal(info.byteLength, 48);
      assert.equal(info.byteOffset, file.dataStart);
      assert.equal(file.dataStart % 8, 0);
      const all = await file.readTensorBytes("model.embed_tokens.weight");
      assert.deepEqual(new Float32Array(all.slice().buffer), w);
      const rows = await file.readRows("model.embed_tokens.weight", 1, 2);
      assert.deepEqual(
        new Float32Array(rows.slice().buffer),
        new Float32Array([3, 4, 5, 6, 7, 8]),
      );
      const idBytes = await file.readTensorBytes("ids");
      assert.deepEqual(new Int32Array(idBytes.slice().buffer), ids);
      assert.equal((await file.readTensorBytes("empty")).length, 0);
      assert.deepEqual(await file.readTensorBytes("flag"), new Uint8Array([1]));

      // Blocking reads (second handle) see the same bytes, also while an
      // async read is in flight on the first handle.
      const pending = file.readRows("model.embed_tokens.weight", 0, 4);
      const sync = file.readRowsSync("model.embed_tokens.weight", 2, 2);
      assert.deepEqual(
        new Float32Array(sync.slice().buffer),
        new Float32Array([6, 7, 8, 9, 10, 11]),
      );
      assert.deepEqual(
        new Float32Array(
          file.readRowsSync("model.embed_tokens.weight", 0, 1).slice().buffer,
        ),
        new Float32Array([0, 1, 2]),
      );
      assert.deepEqual(new Float32Array((await pending).slice().buffer), w);
      assert.throws(
        () => file.readRowsSync("model.embed_tokens.weight", 3, 2),
        (e: unknown) =>
          e instanceof SafetensorsError && e.code === "out-of-range",
      );

      // Reusing a caller's buffer.
      const into = new Uint8Array(100);
      const got = await file.readRows("model.embed_tokens.weight", 3, 1, {
        into,
      });
      assert.equal(got.buffer, into.buffer);
      assert.deepEqual(
        new Float32Array(got.slice().buffer),
        new Float32Array([9, 10, 11]),
      );
    } finally {
      file.close();
    }
  });
});

Deno.test("rowBlocks() streams every row once, in order, in whole-row blocks", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/b.safetensors`;
    const rows = 10;
    const data = new Uint8Array(rows * 4).map((_, i) => i);
    await writeSafetensors(path, {
      t: { dtype: "U8", shape: [rows, 4], data },
    });
    const file = await openSafetensors(path);
    try {
      const seen: number[] = [];
      const starts: number[] = [];
      // 12 bytes per block = 3 rows of 4 bytes: blocks 3, 3, 3, 1.
      for await (const b of file.rowBlocks("t", { blockBytes: 12 })) {
        starts.push(b.startRow);
        assert.equal(b.bytes.length, b.rowCount * 4);
        seen.push(...b.bytes);
      }
      assert.deepEqual(starts, [0, 3, 6, 9]);
      assert.deepEqual(seen, [...data]);

      const part: number[] = [];
      for await (
        const b of file.rowBlocks("t", {
          startRow: 2,
          rowCount: 3,
          blockBytes: 8,
        })
      ) part.push(...b.bytes);
      assert.deepEqual(part, [...data.subarray(8, 20)]);

      // Stopping early leaves the file usable.
      for await (const _ of file.rowBlocks("t", { blockBytes: 4 })) break;
      assert.deepEqual(await file.readRows("t", 9, 1), data.subarray(36));
    } finally {
      file.close();
    }
  });
});

Deno.test("readRows() and readTensorBytes() refuse bad requests", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/e.safetensors`;
    await writeSafetensors(path, {
      alpha: { dtype: "U8", shape: [3, 2], data: new Uint8Array(6) },
      beta: { dtype: "U8", shape: [1], data: new Uint8Array(1) },
    });
    const file = await openSafetensors(path);
    try {
      await assert.rejects(file.readTensorBytes("gamma"), (e: unknown) => {
        assert.ok(e instanceof SafetensorsError);
        assert.equal(e.code, "unknown-tensor");
        assert.match(
          e.message,
          /no tensor named "gamma"; available: alpha, beta/,
        );
        return true;
      });
      for (const [start, count] of [[2, 2], [-1, 1], [0, 4], [1.5, 1]]) {
        await assert.rejects(
          file.readRows("alpha", start, count),
          (e: unknown) =>
            e instanceof SafetensorsError && e.code === "out-of-range",
        );
      }
      await assert.rejects(
        file.readRows("alpha", 0, 2, { into: new Uint8Array(3) }),
        (e: unknown) =>
          e instanceof SafetensorsError && e.code === "invalid-argument",
      );
    } finally {
      file.close();
    }
    await assert.rejects(
      file.readTensorBytes("alpha"),
      (e: unknown) => e instanceof SafetensorsError && /closed/.test(e.message),
    );
    assert.throws(() => file.readRowsSync("alpha", 0, 1), /closed/);
  });
});

Deno.test("openSafetensors() rejects each malformed file cleanly", async () => {
  await withTempDir(async (dir) => {
    const ok = (dtype: string, shape: string, offsets: string) =>
      `{"t":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}}`;

    await assertOpenRejects(dir, new Uint8Array(5), "truncated", /too short/);
    await assertOpenRejects(
      dir,
      craft("{}", [], 1000n),
      "truncated",
      /header length 1000 exceeds the 2 bytes/,
    );
    await assertOpenRejects(
      dir,
      craft("{}", [], 200n * 1024n * 1024n),
      "header-too-large",
      /cap/,
    );
    await assertOpenRejects(
      dir,
      craft("{}", [], 0xffffffffffffffffn),
      "header-too-large",
      /18446744073709551615/,
    );
    await assertOpenRejects(
      dir,
      craft('{"t": '),
      "invalid-header",
      /not valid JSON/,
    );
    await assertOpenRejects(
      dir,
      craft("[1, 2]"),
      "invalid-header",
      /start with '\{'/,
    );
    await assertOpenRejects(
      dir,
      (() => {
        const b = craft("{}  ");
        b[10] = 0xff; // a lone continuation-less byte: not UTF-8
        return b;
      })(),
      "invalid-header",
      /UTF-8/,
    );
    await assertOpenRejects(
      dir,
      craft('{"__metadata__":{"k":1}}'),
      "invalid-header",
      /"k" is not a string/,
    );
    await assertOpenRejects(
      dir,
      craft('{"t":[1]}'),
      "invalid-tensor",
      /"t": entry is not an object/,
    );
    await assertOpenRejects(
      dir,
      craft(ok("F33", "[2]", "[0,8]"), new Uint8Array(8)),
      "invalid-tensor",
      /unknown dtype "F33"/,
    );
    for (const shape of ["[-1]", "[1.5]", '"2"', "[2, null]"]) {
      await assertOpenRejects(
        dir,
        craft(ok("U8", shape, "[0,2]"), [1, 2]),
        "invalid-tensor",
        /shape .* is not an array of non-negative integers/,
      );
    }
    for (const offsets of ["[2,1]", "[0]", '["0",2]', "[0,2,3]", "[-1,1]"]) {
      await assertOpenRejects(
        dir,
        craft(ok("U8", "[2]", offsets), [1, 2]),
        "invalid-offsets",
        /data_offsets .* is not \[begin, end\]/,
      );
    }
    await assertOpenRejects(
      dir,
      craft(ok("F32", "[2]", "[0,8]"), new Uint8Array(5)),
      "invalid-offsets",
      /end 8 is beyond the data section \(5 bytes/,
    );
    await assertOpenRejects(
      dir,
      craft(ok("F32", "[3]", "[0,8]"), new Uint8Array(8)),
      "invalid-tensor",
      /F32 \[3\] needs 12 bytes but data_offsets \[0, 8\] hold 8/,
    );
    await assertOpenRejects(
      dir,
      craft(
        '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},' +
          '"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}',
        new Uint8Array(6),
      ),
      "invalid-offsets",
      /"b" bytes \[2, 6\) overlap tensor "a"/,
    );
    await assertOpenRejects(
      dir,
      craft(
        '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},' +
          '"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}',
        new Uint8Array(6),
      ),
      "invalid-offsets",
      /hole in the data section: bytes \[2, 4\)/,
    );
    await assertOpenRejects(
      dir,
      craft(ok("U8", "[2]", "[0,2]"), new Uint8Array(5)),
      "invalid-offsets",
      /3 trailing bytes/,
    );
  });
});

Deno.test("openSafetensors() reports a missing file as a SafetensorsError", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      openSafetensors(`${dir}/nope.safetensors`),
      (e: unknown) =>
        e instanceof SafetensorsError && e.code === "io" &&
        /no such file/.test(e.message),
    );
    await assert.rejects(
      openSafetensors(dir),
      (e: unknown) => e instanceof SafetensorsError && e.code === "io",
    );
  });
});

Deno.test("writeSafetensors() rejects bad input and leaves nothing behind", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/w.safetensors`;
    await assert.rejects(
      writeSafetensors(path, {
        t: { dtype: "F32", shape: [3], data: new Float32Array(2) },
      }),
      /needs 12 bytes but data has 8 bytes/,
    );
    await assert.rejects(
      writeSafetensors(path, {
        __metadata__: { dtype: "U8", shape: [0], data: new Uint8Array(0) },
      }),
      /__metadata__/,
    );
    await assert.rejects(
      writeSafetensors(`${dir}/missing/w.safetensors`, {
        t: { dtype: "U8", shape: [1], data: new Uint8Array(1) },
      }),
      (e: unknown) => e instanceof SafetensorsError && e.code === "io",
    );
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("stream writer round-trips data appended in pieces", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/h.safetensors`;
    // 5 MiB tensor: larger than the writer's staging buffer.
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
    const small = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const w = await createSafetensorsStreamWriter(path, {
      tensors: [
        { name: "history", dtype: "BF16", shape: [3, 1] },
        { name: "none", dtype: "F32", shape: [0] },
        { name: "big", dtype: "U8", shape: [big.length] },
      ],
      metadata: { steps: "0,1,2" },
    });
    await w.append("history", small.subarray(0, 2));
    await w.append("history", small.subarray(2, 6));
    await w.append("big", big.subarray(0, 1000));
    await w.append("big", big.subarray(1000, 4_500_000));
    await w.append("big", big.subarray(4_500_000));
    assert.deepEqual(await listDir(dir).then((n) => n.length), 1); // temp only
    assert.ok(!(await listDir(dir)).includes("h.safetensors"));
    await w.close();
    assert.deepEqual(await listDir(dir), ["h.safetensors"]);

    const file = await openSafetensors(path);
    try {
      assert.deepEqual(file.metadata, { steps: "0,1,2" });
      assert.deepEqual(file.names(), ["history", "none", "big"]);
      assert.deepEqual(await file.readTensorBytes("history"), small);
      assert.deepEqual(await file.readTensorBytes("big"), big);
    } finally {
      file.close();
    }
  });
});

Deno.test("stream writer checks order and length; abort leaves no file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/s.safetensors`;
    const w = await createSafetensorsStreamWriter(path, {
      tensors: [
        { name: "a", dtype: "U8", shape: [2] },
        { name: "b", dtype: "U8", shape: [2] },
      ],
    });
    await assert.rejects(
      w.append("b", new Uint8Array(2)),
      /expected data for tensor "a"/,
    );
    await assert.rejects(w.append("a", new Uint8Array(3)), /would exceed/);
    await w.append("a", new Uint8Array(2));
    await assert.rejects(
      w.append("a", new Uint8Array(1)),
      /expected data for tensor "b"/,
    );
    await w.abort();
    assert.deepEqual(await listDir(dir), []);
    await assert.rejects(w.append("b", new Uint8Array(2)), /aborted/);

    const w2 = await createSafetensorsStreamWriter(path, {
      tensors: [{ name: "a", dtype: "U8", shape: [2] }],
    });
    await w2.append("a", new Uint8Array(1));
    await assert.rejects(
      w2.close(),
      /"a" has 1 of 2 bytes; the file was not written/,
    );
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("float32ToBf16Bytes() keeps bf16 values and rounds others to nearest even", () => {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const bf16Of = (bits: number) => {
    u[0] = bits;
    const b = float32ToBf16Bytes(f);
    return b[0] | (b[1] << 8);
  };
  assert.equal(bf16Of(0x3f800000), 0x3f80); // 1
  assert.equal(bf16Of(0xc0000000), 0xc000); // -2
  assert.equal(bf16Of(0x80000000), 0x8000); // -0 keeps its sign
  assert.equal(bf16Of(0x3f808000), 0x3f80); // tie, even neighbour below
  assert.equal(bf16Of(0x3f818000), 0x3f82); // tie, even neighbour above
  assert.equal(bf16Of(0x3f808001), 0x3f81); // just above the tie
  assert.equal(bf16Of(0x3f807fff), 0x3f80); // just below the tie
  assert.equal(bf16Of(0x7f7fffff), 0x7f80); // max float rounds to +inf
  assert.equal(bf16Of(0xff800000), 0xff80); // -inf
  assert.equal(bf16Of(0x00000001), 0x0000); // tiny subnormal rounds to 0
  assert.equal(bf16Of(0x7f800001), 0x7fc0); // signalling NaN made quiet
  assert.equal(bf16Of(0xffc00000), 0xffc0); // negative quiet NaN

  assert.deepEqual(
    float32ToBf16Bytes(new Float32Array([1, -2, 0.5])),
    new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f]),
  );
});

Deno.test("bf16BytesToFloat32() and f16BytesToFloat32() decode exactly", () => {
  assert.deepEqual(
    bf16BytesToFloat32(
      new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0x80, 0x7f, 0x00, 0x80]),
    ),
    new Float32Array([1, -2, Infinity, -0]),
  );
  assert.ok(Object.is(bf16BytesToFloat32(new Uint8Array([0, 0x80]))[0], -0));
  assert.throws(() => bf16BytesToFloat32(new Uint8Array(3)), RangeError);

  const f16 = f16BytesToFloat32(
    new Uint8Array([
      ...[0x00, 0x3c], // 1
      ...[0x00, 0xc0], // -2
      ...[0x01, 0x00], // smallest subnormal 2^-24
      ...[0x00, 0x7c], // +inf
      ...[0x55, 0x35], // 0x3555 = (1 + 341/1024) / 4
      ...[0xff, 0x7b], // 65504, largest finite
    ]),
  );
  assert.deepEqual(
    [...f16],
    [1, -2, 2 ** -24, Infinity, (1 + 341 / 1024) / 4, 65504],
  );
  assert.ok(Number.isNaN(f16BytesToFloat32(new Uint8Array([0x00, 0x7e]))[0]));
});
