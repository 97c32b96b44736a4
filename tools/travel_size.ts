/**
 * `deno task travel-size [PATH...]`: the size of the tree that travels to a
 * GPU machine (the device tool sends git-tracked files, untracked files git
 * does not ignore, and up to 8 carried paths, 64 MiB in all): those files,
 * plus the GPU bundle `.gpu/` when built (tools/gpu_bundle.sh) and any other
 * carried PATHs named. Prints the total and the largest parts; exits 1 above
 * {@linkcode TRAVEL_LIMIT_BYTES}, which leaves 4 MiB of the 64 for what a run
 * writes back and for the carried paths of a one-off check.
 * `travel_size_test.ts` holds the project to it.
 *
 * @module
 */

import { join } from "node:path";

/** 60 MiB. */
export const TRAVEL_LIMIT_BYTES = 60 * 2 ** 20;

/** One travelling file. */
export interface TravelFile {
  /** Path relative to the repository root, `/`-separated. */
  readonly path: string;
  /** Size in bytes. */
  readonly bytes: number;
}

/** A folder's share of the travelling tree. */
export interface TravelPart {
  /** Folder (up to two levels deep) or, at the top level, the file. */
  readonly path: string;
  /** Bytes of the files under it. */
  readonly bytes: number;
  /** Files under it. */
  readonly files: number;
}

/** The travelling tree's size, see {@linkcode travelFiles}. */
export interface TravelReport {
  /** Bytes of every travelling file. */
  readonly total: number;
  /** Folders two levels deep (`reports/data`), largest first. */
  readonly parts: TravelPart[];
  /** The largest files, largest first. */
  readonly largest: TravelFile[];
}

/** The folder (at most `depth` levels) a path is counted under. */
function partOf(path: string, depth: number): string {
  const segments = path.split("/");
  return segments.slice(0, Math.min(depth, segments.length - 1)).join("/") ||
    path;
}

/**
 * Sums `files` by folder (two levels deep) and picks the `top` largest files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { travelReport } from "./travel_size.ts";
 * const r = travelReport([
 *   { path: "reports/data/a/x.json", bytes: 5 },
 *   { path: "reports/data/b.json", bytes: 3 },
 *   { path: "README.md", bytes: 1 },
 * ]);
 * assert.equal(r.total, 9);
 * assert.deepEqual(r.parts[0], { path: "reports/data", bytes: 8, files: 2 });
 * assert.equal(r.largest[0].path, "reports/data/a/x.json");
 * ```
 */
export function travelReport(
  files: readonly TravelFile[],
  top = 10,
): TravelReport {
  const parts = new Map<string, { bytes: number; files: number }>();
  let total = 0;
  for (const f of files) {
    total += f.bytes;
    const key = partOf(f.path, 2);
    const p = parts.get(key) ?? { bytes: 0, files: 0 };
    p.bytes += f.bytes;
    p.files++;
    parts.set(key, p);
  }
  const bySize = <T extends { bytes: number; path: string }>(a: T, b: T) =>
    b.bytes - a.bytes || a.path.localeCompare(b.path);
  return {
    total,
    parts: [...parts].map(([path, p]) => ({ path, ...p })).sort(bySize),
    largest: [...files].sort(bySize).slice(0, top),
  };
}

async function filesUnder(
  root: string,
  dir: string,
  out: TravelFile[],
): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(join(root, dir)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) await filesUnder(root, path, out);
    else out.push({ path, bytes: (await Deno.lstat(join(root, path))).size });
  }
}

/**
 * The files that travel from the checkout at `root`: what
 * `git ls-files --cached --others --exclude-standard` lists and exists, plus
 * every file under each of `carry` (default: the GPU bundle `.gpu`).
 */
export async function travelFiles(
  root: string,
  carry: readonly string[] = [".gpu"],
): Promise<TravelFile[]> {
  const git = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!git.success) {
    throw new Error(
      `git ls-files failed in ${root}: ${
        new TextDecoder().decode(git.stderr).trim()
      }`,
    );
  }
  const listed = new Set(
    new TextDecoder().decode(git.stdout).split("\0").filter((p) => p !== ""),
  );
  const files: TravelFile[] = [];
  for (const path of listed) {
    try {
      files.push({ path, bytes: (await Deno.lstat(join(root, path))).size });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // deleted: stays
    }
  }
  for (const c of carry) {
    const under: TravelFile[] = [];
    await filesUnder(root, c.replace(/\/+$/, ""), under);
    files.push(...under.filter((f) => !listed.has(f.path)));
  }
  return files;
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** The report as lines: the total against the limit, parts, largest files. */
export function formatTravelReport(r: TravelReport, parts = 12): string {
  return [
    `travelling tree: ${MiB(r.total)} (${r.total} bytes; limit ${
      MiB(TRAVEL_LIMIT_BYTES)
    })`,
    "largest parts:",
    ...r.parts.slice(0, parts).map((p) =>
      `  ${MiB(p.bytes).padStart(9)}  ${p.path} (${p.files} files)`
    ),
    "largest files:",
    ...r.largest.map((f) => `  ${MiB(f.bytes).padStart(9)}  ${f.path}`),
  ].join("\n");
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname;
  const carry = Deno.args.length ? [".gpu", ...Deno.args] : [".gpu"];
  const report = travelReport(await travelFiles(root, carry));
  console.log(formatTravelReport(report));
  if (report.total > TRAVEL_LIMIT_BYTES) {
    console.error(
      `travel-size: over the limit by ${
        MiB(report.total - TRAVEL_LIMIT_BYTES)
      }`,
    );
    Deno.exit(1);
  }
}
