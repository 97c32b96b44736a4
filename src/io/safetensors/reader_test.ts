import assert from "node:assert/strict";
import { SafetensorsError } from "./error.ts";
import { openSafetensors } from "./reader.ts";
import { writeSafetensors } from "./writer.ts";
import { withTempDir } from "../../testing/helpers.ts";

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

Deno.test("overlapping reads of one open file each get their own bytes", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/c.safetensors`;
    const rows = 256;
    // Row r holds r repeated: a read from a wrong position shows at once.
    const data = new Uint8Array(rows * 64).map((_, i) => Math.floor(i / 64));
    await writeSafetensors(path, {
      t: { dtype: "U8", shape: [rows, 64], data },
    });
    const file = await openSafetensors(path);
    try {
      // All issued before any is awaited, in an order that jumps around.
      const order = Array.from({ length: rows }, (_, i) => (i * 97) % rows);
      const reads = order.map((r) => file.readRows("t", r, 1));
      const sync = file.readRowsSync("t", 200, 1); // while they are in flight
      const got = await Promise.all(reads);
      got.forEach((bytes, k) => {
        assert.deepEqual(
          bytes,
          new Uint8Array(64).fill(order[k]),
          `row ${order[k]}`,
        );
      });
      assert.deepEqual(sync, new Uint8Array(64).fill(200));
    } finally {
      file.close();
    }
  });
});

Deno.test("close() lets reads under way finish and refuses new ones", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/d.safetensors`;
    const data = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
    await writeSafetensors(path, {
      t: { dtype: "U8", shape: [data.length], data },
    });
    const file = await openSafetensors(path);
    const pending = file.readTensorBytes("t");
    file.close();
    assert.deepEqual(await pending, data);
    await assert.rejects(file.readRows("t", 0, 1), /file is closed/);
    assert.throws(() => file.readRowsSync("t", 0, 1), /file is closed/);
    file.close(); // a second close is harmless
  });
});
