import assert from "node:assert/strict";
import {
  formatTravelReport,
  TRAVEL_LIMIT_BYTES,
  travelFiles,
  travelReport,
} from "./travel_size.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const hasGit = (() => {
  try {
    Deno.statSync(`${ROOT}.git`);
    return true;
  } catch {
    return false;
  }
})();

Deno.test("travelReport sums folders two levels deep and ranks files", () => {
  const r = travelReport([
    { path: "a/b/c/d.bin", bytes: 10 },
    { path: "a/b/e.bin", bytes: 5 },
    { path: "a/f.bin", bytes: 7 },
    { path: "g.md", bytes: 1 },
  ], 2);
  assert.equal(r.total, 23);
  assert.deepEqual(r.parts, [
    { path: "a/b", bytes: 15, files: 2 },
    { path: "a", bytes: 7, files: 1 },
    { path: "g.md", bytes: 1, files: 1 },
  ]);
  assert.deepEqual(r.largest.map((f) => f.path), ["a/b/c/d.bin", "a/f.bin"]);
  assert.match(formatTravelReport(r), /^travelling tree: 0\.0 MiB \(23 bytes/);
});

Deno.test({
  name:
    "travelFiles: tracked and untracked-not-ignored files, plus carried ones",
  ignore: !hasGit,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const git = (...args: string[]) =>
        new Deno.Command("git", { args, cwd: dir, stdout: "null" })
          .outputSync();
      git("init", "-q");
      await Deno.writeTextFile(`${dir}/.gitignore`, "big/\n");
      await Deno.writeTextFile(`${dir}/tracked.txt`, "12345");
      await Deno.writeTextFile(`${dir}/gone.txt`, "x");
      git("add", ".gitignore", "tracked.txt", "gone.txt");
      await Deno.remove(`${dir}/gone.txt`); // tracked but deleted: no bytes
      await Deno.writeTextFile(`${dir}/new.txt`, "123"); // untracked: travels
      await Deno.mkdir(`${dir}/big/sub`, { recursive: true });
      await Deno.writeFile(`${dir}/big/sub/x.bin`, new Uint8Array(100));
      const without = await travelFiles(dir, []);
      assert.deepEqual(
        without.map((f) => `${f.path}:${f.bytes}`).sort(),
        [".gitignore:5", "new.txt:3", "tracked.txt:5"],
      );
      const carried = await travelFiles(dir, ["big", "absent"]);
      assert.equal(travelReport(carried).total, 113);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// The device tool refuses a tree over 64 MiB; 60 leaves room for a check's
// carried extras. Fails with the largest parts when the project outgrows it.
Deno.test({
  name: "the travelling tree (tracked files + GPU bundle) is at most 60 MiB",
  ignore: !hasGit,
  async fn() {
    const report = travelReport(await travelFiles(ROOT));
    console.log(formatTravelReport(report, 6));
    assert.ok(
      report.total <= TRAVEL_LIMIT_BYTES,
      `over the limit by ${report.total - TRAVEL_LIMIT_BYTES} bytes:\n` +
        formatTravelReport(report),
    );
  },
});
