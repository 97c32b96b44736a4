/**
 * Checking where results will go before spending time on computing them:
 * a run that trains for an hour and then cannot write its record has wasted
 * the hour.
 *
 * @module
 */

import { resolve } from "node:path";
import { tempPathFor, trackTemp, untrackTemp } from "./temp_files.ts";

/** An output location that cannot be used; the message is one line and names the path. */
export class OutputLocationError extends Error {
  override name = "OutputLocationError";
  /** The path as given. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/** The gist of a file system error, one line (no "os error" code or path). */
function reason(e: unknown): string {
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.NotADirectory) {
    return "part of the path is a file, not a directory";
  }
  // e.g. "Read-only file system (os error 30): mkdir '/mnt/x'"
  const message = e instanceof Error ? e.message : String(e);
  const gist = message.split("\n")[0].replace(/ \(os error \d+\).*$/, "");
  return gist ? gist[0].toLowerCase() + gist.slice(1) : "unknown error";
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    // Missing, or under a file: either way there is nothing there yet.
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.NotADirectory
    ) return null;
    throw e;
  }
}

/** Options of {@linkcode checkOutputDir} and {@linkcode checkOutputFile}. */
export interface OutputCheckOptions {
  /** Create missing directories (default true); when false, a missing directory is an error. */
  create?: boolean;
  /** What the location is for, in messages (default "output directory" / "output file"). */
  what?: string;
}

/**
 * Checks that `path` can take output files, creating it (and its parents)
 * if missing unless `create` is false, and probing that a file can be
 * created and removed in it (so running as root or on a read-only mount
 * is handled too). Returns the absolute path. Throws an
 * {@linkcode OutputLocationError} when `path` is the empty string, exists
 * but is not a directory, cannot be created, or is not writable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOutputDir, OutputLocationError } from "./output_location.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const out = await checkOutputDir(`${dir}/reports/data`); // created
 *   assert.equal(out, `${dir}/reports/data`);
 *   assert.ok((await Deno.stat(out)).isDirectory);
 *   await Deno.writeTextFile(`${dir}/file`, "");
 *   await assert.rejects(checkOutputDir(`${dir}/file`), OutputLocationError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function checkOutputDir(
  path: string,
  options: OutputCheckOptions = {},
): Promise<string> {
  const what = options.what ?? "output directory";
  const fail = (why: string): never => {
    throw new OutputLocationError(
      path,
      `${what} ${JSON.stringify(path)} ${why}`,
    );
  };
  if (path === "") fail("is empty; give a directory");
  const abs = resolve(path);
  let info: Deno.FileInfo | null;
  try {
    info = await statOrNull(abs);
  } catch (e) {
    return fail(`cannot be checked (${reason(e)})`);
  }
  if (info && !info.isDirectory) fail("exists but is not a directory");
  if (!info) {
    if (options.create === false) fail("does not exist");
    try {
      await Deno.mkdir(abs, { recursive: true });
    } catch (e) {
      fail(`cannot be created (${reason(e)})`);
    }
  }
  // Permission bits do not tell (root ignores them; mounts may be
  // read-only): try it.
  const probe = tempPathFor(`${abs}/.write-probe`);
  trackTemp(probe);
  try {
    const f = await Deno.open(probe, { write: true, createNew: true });
    f.close();
    await Deno.remove(probe);
  } catch (e) {
    await Deno.remove(probe).catch(() => {});
    fail(`is not writable (${reason(e)})`);
  } finally {
    untrackTemp(probe);
  }
  return abs;
}

/**
 * Checks that a single output file can be written at `path`: its directory
 * must be (or, unless `create` is false, become) a writable directory, and
 * `path` itself must not be a directory or other non-regular file (a device
 * such as /dev/null would be replaced by the atomic rename). Returns the
 * absolute path; throws an {@linkcode OutputLocationError} otherwise. An
 * existing regular file is fine (it will be replaced).
 */
export async function checkOutputFile(
  path: string,
  options: OutputCheckOptions = {},
): Promise<string> {
  const what = options.what ?? "output file";
  const fail = (why: string): never => {
    throw new OutputLocationError(
      path,
      `${what} ${JSON.stringify(path)} ${why}`,
    );
  };
  if (path === "") fail("is empty; give a file name");
  if (path.endsWith("/")) fail("names a directory; give a file name");
  const abs = resolve(path);
  const slash = abs.lastIndexOf("/");
  const dir = abs.slice(0, slash) || "/";
  try {
    await checkOutputDir(dir, { create: options.create });
  } catch (e) {
    if (!(e instanceof OutputLocationError)) throw e;
    const why = e.message.slice(e.message.indexOf(JSON.stringify(dir)));
    fail(`cannot be written: its directory ${why}`);
  }
  let info: Deno.FileInfo | null;
  try {
    info = await statOrNull(abs);
  } catch (e) {
    return fail(`cannot be checked (${reason(e)})`);
  }
  if (info?.isDirectory) fail("is a directory; give a file name");
  if (info && !info.isFile) fail("exists but is not a regular file");
  return abs;
}
