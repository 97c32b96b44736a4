import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HistoryDigest, verifyHistoryPrefix } from "./history_digest.ts";

/** A safetensors-shaped file: 8-byte little-endian header length, header, data. */
function fileOf(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

Deno.test("a prefix longer than one read chunk is hashed whole, and the digest goes on from it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 2.5 MiB of data, so the reads cross chunk boundaries.
    const data = new Uint8Array(5 << 19).map((_, i) => (i * 7 + 3) & 0xff);
    const path = `${dir}/h.partial`;
    await Deno.writeFile(path, fileOf('{"__metadata__":{}}   ', data));
    const cut = data.length - 12345;
    const got = await verifyHistoryPrefix(
      path,
      cut,
      sha(data.subarray(0, cut)),
    );
    assert.ok(got instanceof HistoryDigest);
    assert.equal(got.bytes, cut);
    got.update(data.subarray(cut));
    assert.equal(got.bytes, data.length);
    assert.equal(got.hex(), sha(data));
    const none = await verifyHistoryPrefix(path, 0, sha(new Uint8Array()));
    assert.ok(none instanceof HistoryDigest && none.bytes === 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("each way a partial history can fail is named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    const path = `${dir}/h.partial`;
    const check = (bytes: number, digest = sha(data.subarray(0, bytes))) =>
      verifyHistoryPrefix(path, bytes, digest);
    assert.equal(await check(3), "it is missing");
    await Deno.writeFile(path, new Uint8Array([2, 0, 0]));
    assert.equal(await check(3), "it is shorter than its header");
    // A header length past the 100 MiB cap.
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    await Deno.writeFile(path, huge);
    assert.equal(await check(3), "its header length is out of range");
    // A header length past the end of the file.
    const beyond = new Uint8Array(16);
    beyond[0] = 100;
    await Deno.writeFile(path, beyond);
    assert.equal(await check(3), "it is shorter than the checkpoint says");
    await Deno.writeFile(path, fileOf("{}", data));
    assert.equal(
      await check(6, sha(data)),
      "it is shorter than the checkpoint says",
    );
    assert.equal(
      await check(3, sha(data.subarray(1, 4))),
      "its bytes do not match the checkpoint's digest",
    );
    assert.ok(await check(5) instanceof HistoryDigest);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
