import assert from "node:assert/strict";
import { openSafetensors } from "./reader.ts";
import { createSafetensorsStreamWriter } from "./stream_writer.ts";
import { listDir, withTempDir } from "../../testing/helpers.ts";

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

Deno.test("stream writer resumes a partial file at a data offset", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/r.safetensors`;
    const partial = `${dir}/r.partial`;
    const tensors = [
      { name: "a", dtype: "U8" as const, shape: [3] },
      { name: "b", dtype: "U8" as const, shape: [4] },
    ];
    const w = await createSafetensorsStreamWriter(path, {
      tensors,
      partial: { path: partial },
    });
    await w.append("a", new Uint8Array([1, 2, 3]));
    await w.append("b", new Uint8Array([4, 9]));
    assert.equal(await w.sync(), 5);
    // An interruption here leaves the partial file; resume at 4 data bytes
    // drops the 9 and continues inside "b".
    const header = (await Deno.stat(partial)).size - 5;
    await assert.rejects(
      createSafetensorsStreamWriter(path, {
        tensors,
        partial: { path: partial, resumeDataBytes: 8 },
      }),
      /cannot resume at 8 data bytes \(the file holds 7\)/,
    );
    await assert.rejects(
      createSafetensorsStreamWriter(path, {
        tensors: [{ name: "a", dtype: "U8", shape: [7] }],
        partial: { path: partial, resumeDataBytes: 4 },
      }),
      /another header/,
    );
    const r = await createSafetensorsStreamWriter(path, {
      tensors,
      partial: { path: partial, resumeDataBytes: 4 },
    });
    assert.equal((await Deno.stat(partial)).size, header + 4);
    await assert.rejects(
      r.append("b", new Uint8Array(4)),
      /4 bytes would exceed the tensor's 4 bytes \(1 already written\)/,
    );
    await r.append("b", new Uint8Array([5, 6, 7]));
    assert.equal(await r.sync(), 7);
    await assert.rejects(r.append("b", new Uint8Array(0)), /already complete/);
    await r.close();
    await assert.rejects(r.close(), /close after the writer was closed/);
    assert.deepEqual(await listDir(dir), ["r.safetensors"]);
    const file = await openSafetensors(path);
    try {
      assert.deepEqual(
        await file.readTensorBytes("b"),
        new Uint8Array([4, 5, 6, 7]),
      );
    } finally {
      file.close();
    }
  });
});
