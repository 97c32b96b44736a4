import assert from "node:assert/strict";
import { fileDigest } from "./file_digest.ts";
import { RACY_MS, rememberingDigest } from "./remembered_digest.ts";

/** A remembering digest that counts the files it really hashed. */
function counting(now?: () => number) {
  const hashed: string[] = [];
  const digest = rememberingDigest({
    digest: (p) => (hashed.push(p), fileDigest(p)),
    now,
  });
  return { digest, hashed };
}

// SHA-256 of "abc" and of "abd" (FIPS 180-2 example; sha256sum).
const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const ABD = "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9";

Deno.test("an unchanged file is hashed once, however it is named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/f`, "abc");
    await Deno.utime(`${dir}/f`, 1_000, 1_000);
    const { digest, hashed } = counting();
    assert.deepEqual(await digest(`${dir}/f`), { bytes: 3, sha256: ABC });
    assert.deepEqual(await digest(`${dir}/./f`), { bytes: 3, sha256: ABC });
    assert.deepEqual(await digest(`${dir}/f`), { bytes: 3, sha256: ABC });
    assert.equal(hashed.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a changed file is hashed again: new bytes of the same size, or a replaced file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f`;
    await Deno.writeTextFile(path, "abc");
    await Deno.utime(path, 1_000, 1_000);
    const { digest, hashed } = counting();
    assert.equal((await digest(path)).sha256, ABC);
    // Same size, another modification time.
    await Deno.writeTextFile(path, "abd");
    await Deno.utime(path, 2_000, 2_000);
    assert.equal((await digest(path)).sha256, ABD);
    // Renamed over: another inode, even with the old times.
    await Deno.writeTextFile(`${dir}/g`, "abc");
    await Deno.utime(`${dir}/g`, 2_000, 2_000);
    await Deno.rename(`${dir}/g`, path);
    assert.equal((await digest(path)).sha256, ABC);
    assert.equal(hashed.length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file written within RACY_MS of being hashed is not remembered", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f`;
    await Deno.writeTextFile(path, "abc");
    const written = (await Deno.stat(path)).mtime!.getTime();
    let clock = written + RACY_MS; // not yet strictly older than RACY_MS
    const { digest, hashed } = counting(() => clock);
    await digest(path);
    await digest(path);
    assert.equal(hashed.length, 2);
    clock = written + RACY_MS + 1;
    await digest(path);
    await digest(path);
    assert.equal(hashed.length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing file throws, and nothing is remembered for it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { digest, hashed } = counting();
    await assert.rejects(() => digest(`${dir}/none`), Deno.errors.NotFound);
    assert.equal(hashed.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
