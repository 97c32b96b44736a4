/**
 * A temporary copy of the project for tests that run its CLIs as a user
 * would, in another checkout (so nothing lands in this one's hypotheses/,
 * experiments/ or reports/): the tracked and new files the CLIs need, with
 * node_modules linked, and a way to run `deno ...` commands in it.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Copies what the CLIs need (tracked and new files) and links node_modules. */
export async function copyProject(to: string): Promise<void> {
  const out = await new Deno.Command("git", {
    args: [
      "ls-files",
      "--cached",
      "--others",
      "--exclude-standard",
      "--",
      "deno.json",
      "package.json",
      "src",
      "hypotheses",
      "experiments",
      "fixtures/corpus",
    ],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const files = new TextDecoder().decode(out.stdout).split("\n").filter(
    Boolean,
  );
  for (const f of files) {
    const target = `${to}/${f}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
      recursive: true,
    });
    try {
      await Deno.copyFile(`${ROOT}${f}`, target);
    } catch (e) {
      // A file deleted in the working tree but still in the index.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  await Deno.symlink(`${ROOT}node_modules`, `${to}/node_modules`);
}

/**
 * Runs `command` (`deno ...`, split on spaces) in `dir` with the cache
 * `cacheDir` (default `<dir>/.cache`); asserts exit 0 and returns stdout and
 * stderr together.
 */
export async function denoIn(
  dir: string,
  command: string,
  options: { readonly cacheDir?: string } = {},
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: command.split(" ").slice(1),
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: {
      NO_COLOR: "1",
      HORIZON_CACHE_DIR: options.cacheDir ?? `${dir}/.cache`,
    },
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${command} failed:\n${text}`);
  return text;
}
