import assert from "node:assert/strict";
import { listDir, withTempDir } from "../testing/helpers.ts";
import {
  checkOutputDir,
  checkOutputFile,
  OutputLocationError,
} from "./output_location.ts";

async function refusal(p: Promise<unknown>): Promise<OutputLocationError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof OutputLocationError, `got ${e}`);
    assert.ok(!e.message.includes("\n"), "one line");
    return e;
  }
  assert.fail("expected an OutputLocationError");
}

const IS_ROOT = Deno.build.os !== "windows" && Deno.uid() === 0;

Deno.test("checkOutputDir returns the absolute path, creating it", async () => {
  await withTempDir(async (dir) => {
    assert.equal(await checkOutputDir(dir), dir);
    assert.equal(await checkOutputDir(`${dir}/a/b`), `${dir}/a/b`);
    assert.ok((await Deno.stat(`${dir}/a/b`)).isDirectory);
    assert.deepEqual(await listDir(`${dir}/a/b`), [], "the probe is gone");
    assert.equal(await checkOutputDir(`${dir}/a/../a/b/`), `${dir}/a/b`);
    const cwd = Deno.cwd();
    try {
      Deno.chdir(dir);
      assert.equal(await checkOutputDir("rel"), `${dir}/rel`);
      assert.equal(await checkOutputDir("."), dir);
    } finally {
      Deno.chdir(cwd);
    }
  });
});

Deno.test("checkOutputDir refuses unusable locations in one line naming the path", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    let e = await refusal(checkOutputDir(""));
    assert.equal(e.message, 'output directory "" is empty; give a directory');
    assert.equal(e.path, "");

    e = await refusal(checkOutputDir(`${dir}/file`));
    assert.equal(
      e.message,
      `output directory "${dir}/file" exists but is not a directory`,
    );

    // Even root cannot create a directory under a file.
    e = await refusal(checkOutputDir(`${dir}/file/sub`));
    assert.equal(
      e.message,
      `output directory "${dir}/file/sub" cannot be created (part of the path is a file, not a directory)`,
    );

    e = await refusal(checkOutputDir(`${dir}/missing`, { create: false }));
    assert.equal(e.message, `output directory "${dir}/missing" does not exist`);

    e = await refusal(
      checkOutputDir(`${dir}/x`, { what: "--out", create: false }),
    );
    assert.match(e.message, /^--out ".*\/x" does not exist$/);
    assert.deepEqual(await listDir(dir), ["file"], "nothing created");
  });
});

Deno.test("checkOutputDir refuses a directory it cannot write to", async () => {
  // /proc refuses new entries, whoever asks.
  if (Deno.build.os === "linux") {
    const e = await refusal(checkOutputDir("/proc/horizon-out"));
    assert.match(
      e.message,
      /^output directory "\/proc\/horizon-out" cannot be created \(/,
    );
    const f = await refusal(checkOutputDir("/proc/self"));
    assert.match(
      f.message,
      /^output directory "\/proc\/self" is not writable \(/,
    );
  }
  // Permission bits stop anyone but root.
  if (!IS_ROOT && Deno.build.os !== "windows") {
    await withTempDir(async (dir) => {
      await Deno.chmod(dir, 0o555);
      try {
        const e = await refusal(checkOutputDir(dir));
        assert.equal(
          e.message,
          `output directory "${dir}" is not writable (permission denied)`,
        );
        await refusal(checkOutputDir(`${dir}/sub`));
      } finally {
        await Deno.chmod(dir, 0o755);
      }
    });
  }
});

Deno.test("checkOutputFile: a writable parent and not a directory", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    assert.equal(await checkOutputFile(`${dir}/file`), `${dir}/file`);
    assert.equal(
      await checkOutputFile(`${dir}/new/out.json`),
      `${dir}/new/out.json`,
    );
    assert.ok((await Deno.stat(`${dir}/new`)).isDirectory);

    let e = await refusal(checkOutputFile(""));
    assert.equal(e.message, 'output file "" is empty; give a file name');
    e = await refusal(checkOutputFile(dir));
    assert.equal(
      e.message,
      `output file "${dir}" is a directory; give a file name`,
    );
    e = await refusal(checkOutputFile(`${dir}/new/`));
    assert.equal(
      e.message,
      `output file "${dir}/new/" names a directory; give a file name`,
    );
    e = await refusal(checkOutputFile(`${dir}/file/out.json`));
    assert.equal(
      e.message,
      `output file "${dir}/file/out.json" cannot be written: its directory "${dir}/file" exists but is not a directory`,
    );
    e = await refusal(checkOutputFile(`${dir}/file/sub/out.json`));
    assert.match(e.message, /its directory ".*\/file\/sub" cannot be created/);
    if (Deno.build.os !== "windows") {
      e = await refusal(checkOutputFile("/dev/null"));
      assert.equal(
        e.message,
        'output file "/dev/null" exists but is not a regular file',
      );
    }
    assert.deepEqual(await listDir(dir), ["file", "new"]);
  });
});
