import assert from "node:assert/strict";
import { withTempDir } from "../testing/helpers.ts";
import {
  checkFreeSpace,
  type FreeSpace,
  NoSpaceError,
  statfsProbe,
} from "./free_space.ts";

Deno.test("checkFreeSpace adds up the needs of one file system, and checks each file system apart", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/disk/sub`, { recursive: true });
    await Deno.mkdir(`${dir}/small`);
    const asked: string[] = [];
    const probe = (at: string): Promise<FreeSpace> => {
      asked.push(at);
      return Promise.resolve(
        at.startsWith(`${dir}/small`)
          ? { device: 2, free: 1_000_000 }
          : { device: 1, free: 10_000_000 },
      );
    };
    const disk = `${dir}/disk`, sub = `${dir}/disk/sub`, small = `${dir}/small`;
    // 6 + 3 MB on one disk, 0.9 MB on the other: fits.
    await checkFreeSpace([
      { dir: disk, bytes: 6_000_000 },
      { dir: sub, bytes: 3_000_000 },
      { dir: small, bytes: 900_000 },
    ], probe);
    // 6 + 5 MB on one disk: does not, though each alone would.
    await assert.rejects(
      checkFreeSpace([
        { dir: disk, bytes: 6_000_000 },
        { dir: sub, bytes: 5_000_000 },
        { dir: small, bytes: 900_000 },
      ], probe),
      (e: unknown) =>
        e instanceof NoSpaceError && e.code === "no-space" &&
        e.message === `needs ~11.0 MB under ${disk} and ${sub}, 10.0 MB free`,
    );
    await assert.rejects(
      checkFreeSpace([{ dir: small, bytes: 1_000_001 }], probe),
      { message: `needs ~1.0 MB under ${small}, 1.0 MB free` },
    );
    asked.length = 0;
    await checkFreeSpace([{ dir: small, bytes: 0 }], probe);
    assert.deepEqual(asked, [], "nothing to write: nothing measured");
  });
});

Deno.test("checkFreeSpace measures a folder that does not exist yet at its nearest existing parent", async () => {
  await withTempDir(async (dir) => {
    const asked: string[] = [];
    await checkFreeSpace([{ dir: `${dir}/a/b/c`, bytes: 1 }], (at) => {
      asked.push(at);
      return Promise.resolve({ device: 1, free: 2 });
    });
    assert.deepEqual(asked, [dir]);
  });
});

Deno.test("statfsProbe agrees with df on the free bytes", async () => {
  await withTempDir(async (dir) => {
    const df = await new Deno.Command("df", {
      args: ["-B1", "--output=avail", dir],
      stdout: "piped",
      stderr: "null",
    }).output().catch(() => null);
    const mine = await statfsProbe(dir);
    assert.ok(mine.free > 0);
    assert.equal(mine.device, (await Deno.stat(dir)).dev);
    if (!df?.success) return; // no GNU df here: the positive check stands
    const avail = Number(
      new TextDecoder().decode(df.stdout).trim().split("\n")[1],
    );
    // Other processes write meanwhile: equal within 64 MB.
    assert.ok(
      Math.abs(avail - mine.free) < 64 * 2 ** 20,
      `df says ${avail}, statfs ${mine.free}`,
    );
  });
});
