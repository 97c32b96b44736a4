/**
 * Writes reports to disk: `<id>.md` with its SVG plots (loss, C/P, centroid;
 * a phase diagram for a sweep; an envelope over replicates), and the
 * `README.md` index with its plot of every hypothesis's rate (`rates.svg`).
 *
 * Each file is written to a temporary file in the same directory and then
 * renamed over the target, so a reader (or a crash) never sees a half-written
 * report; a rename within one directory is atomic on POSIX file systems.
 *
 * A file is replaced (or, for a plot no longer drawn, removed) only when it
 * is absent or reads as what this module writes there: `--out .` must never
 * take a project's own README.md for the reports index. What was written is
 * recognised by its first bytes, which the committed reports already carry
 * (a marker added now would change them): a report starts with
 * `# <id>: `, a plot is an SVG whose `<title>` starts with `<id>: `, the
 * index starts with the index's own title and first sentence, and its plot's
 * `<title>` starts with `Reports: `.
 *
 * @module
 */

import { writeTextAtomic } from "../io/atomic.ts";
import { join } from "node:path";
import type { RecordedOutcome } from "../verdict/outcomes.ts";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";
import {
  type IndexRow,
  renderHypothesisReport,
  renderIndex,
} from "./markdown/mod.ts";
import { plotsForRun } from "./plots.ts";
import { RATES_PLOT_TITLE_PREFIX, ratesPlot } from "./rates_plot.ts";

/** Ids become file names: keep them to one safe path segment. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The file names of a hypothesis's report and plots, relative to the
 * reports directory.
 *
 * @example
 * ```ts
 * import { reportFiles } from "./write.ts";
 * reportFiles("11.2b-jiggling").cp; // "11.2b-jiggling-cp.svg"
 * ```
 */
export function reportFiles(id: string): {
  markdown: string;
  loss: string;
  cp: string;
  centroid: string;
  phase: string;
  envelope: string;
} {
  if (!SAFE_ID.test(id)) {
    throw new RangeError(
      `hypothesis id ${
        JSON.stringify(id)
      } is not a safe file name (letters, digits, '.', '_', '-')`,
    );
  }
  return {
    markdown: `${id}.md`,
    loss: `${id}-loss.svg`,
    cp: `${id}-cp.svg`,
    centroid: `${id}-centroid.svg`,
    phase: `${id}-phase.svg`,
    envelope: `${id}-envelope.svg`,
  };
}

/**
 * A file in the output directory that `report` did not write (or cannot
 * tell it wrote), which it refuses to replace or remove.
 */
export class ReportOverwriteError extends Error {
  /** Error name, shown in messages. */
  override name = "ReportOverwriteError";
  /** Path of the file left alone. */
  readonly path: string;
  /** Builds the error for `path`; `why` says what is there instead. */
  constructor(path: string, why: string) {
    super(
      `${path} ${why}, not a report this command wrote; refusing to replace it (remove it or choose another --out)`,
    );
    this.path = path;
  }
}

/** The first bytes of the reports index (its title and first sentence). */
export const INDEX_SIGNATURE = "# Reports\n\nOne row per hypothesis.";

/** File name of the reports index. */
const INDEX_FILE = "README.md";

/** File name of the index's plot of rates. */
const INDEX_PLOT = "rates.svg";

/** How much of a file is read to recognise it. */
const HEAD_BYTES = 4096;

/** The first bytes of the regular file at `path` as text, or why not. */
async function headOf(path: string): Promise<string | { why: string } | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  if (!info.isFile) {
    return { why: info.isSymlink ? "is a symbolic link" : "is not a file" };
  }
  using file = await Deno.open(path);
  const buf = new Uint8Array(HEAD_BYTES);
  let n = 0;
  while (n < buf.length) {
    const got = await file.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return new TextDecoder().decode(buf.subarray(0, n));
}

/** Whether `head` (a file's first bytes) is what report writes as `name`. */
function isOwnFile(name: string, id: string | null, head: string): boolean {
  if (name.endsWith(".md")) {
    return head.startsWith(id === null ? INDEX_SIGNATURE : `# ${id}: `);
  }
  const title = id === null ? RATES_PLOT_TITLE_PREFIX : `${id}: `;
  return head.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') &&
    head.split("\n", 3)[1]?.startsWith(`<title>${title}`) === true;
}

/**
 * Throws a {@linkcode ReportOverwriteError} naming the first of `names` in
 * `dir` that exists and is not a file report writes: a report or plot of
 * hypothesis `id`, or the index (`id` null).
 */
async function checkOwnFiles(
  dir: string,
  id: string | null,
  names: readonly string[],
): Promise<void> {
  for (const name of names) {
    const path = join(dir, name);
    const head = await headOf(path);
    if (head === null) continue;
    if (typeof head !== "string") {
      throw new ReportOverwriteError(path, head.why);
    }
    if (!isOwnFile(name, id, head)) {
      throw new ReportOverwriteError(
        path,
        id === null ? "is not a reports index" : `is not a report of ${id}`,
      );
    }
  }
}

/**
 * Checks, before anything is written, that the reports of `ids` and the
 * index could be written into `dir` without replacing or removing a file
 * `report` did not write. Throws a {@linkcode ReportOverwriteError} naming
 * the first such file.
 *
 * @example A project's own README.md is never taken for the index
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkReportTargets, ReportOverwriteError } from "./write.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/README.md`, "# my project\n");
 *   await assert.rejects(
 *     checkReportTargets(dir, ["control-layernorm"]),
 *     ReportOverwriteError,
 *   );
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function checkReportTargets(
  dir: string,
  ids: readonly string[],
): Promise<void> {
  for (const id of ids) {
    await checkOwnFiles(dir, id, Object.values(reportFiles(id)));
  }
  await checkOwnFiles(dir, null, [INDEX_FILE, INDEX_PLOT]);
}

/** Atomic text write (shared helper, re-exported for report callers). */
export { writeTextAtomic } from "../io/atomic.ts";

/** Options of {@linkcode writeReport}. */
export interface WriteReportOptions {
  /** Recorded outcomes the CI gate holds re-runs to (outcomes.json). */
  readonly outcomes?: readonly RecordedOutcome[];
  /** The control hypothesis (`h.control`) and its run records. */
  readonly control?: {
    readonly hypothesis: Hypothesis;
    readonly runs: readonly RunRecord[];
  };
  /** Records of seeds the hypothesis does not declare: named, not counted. */
  readonly adHoc?: readonly RunRecord[];
}

/**
 * Renders and writes a hypothesis's report and plots into `dir` (created
 * if missing); returns the written paths, report first. The phase diagram
 * and the envelope are written only when there is one to draw (a sweep; two
 * completed runs at the hypothesis's own config); a stale one left by an
 * earlier report is removed, so the report never sits beside a plot it
 * does not link. A file there that this module did not write is left
 * alone: a {@linkcode ReportOverwriteError} names it before anything is
 * written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeHypothesis, makeRun } from "../testing/records.ts";
 * import { writeReport } from "./write.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const written = await writeReport(dir, makeHypothesis(), [makeRun()]);
 *   assert.deepEqual(written, [
 *     `${dir}/11.2b-jiggling.md`,
 *     `${dir}/11.2b-jiggling-loss.svg`,
 *     `${dir}/11.2b-jiggling-cp.svg`,
 *     `${dir}/11.2b-jiggling-centroid.svg`,
 *   ]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeReport(
  dir: string,
  h: Hypothesis,
  runs: readonly RunRecord[],
  options: WriteReportOptions = {},
): Promise<string[]> {
  const files = reportFiles(h.id);
  await checkOwnFiles(dir, h.id, Object.values(files));
  const plots = plotsForRun(h, runs);
  const control = options.control
    ? {
      ...options.control,
      file: reportFiles(options.control.hypothesis.id).markdown,
    }
    : undefined;
  const markdown = renderHypothesisReport(h, runs, {
    plots: {
      loss: files.loss,
      cp: files.cp,
      centroid: files.centroid,
      ...(plots.phase !== undefined ? { phase: files.phase } : {}),
      ...(plots.envelope !== undefined ? { envelope: files.envelope } : {}),
    },
    outcomes: options.outcomes ?? [],
    ...(control ? { control } : {}),
    ...(options.adHoc?.length ? { adHoc: options.adHoc } : {}),
  });
  await Deno.mkdir(dir, { recursive: true });
  const out: [string, string | undefined][] = [
    [files.markdown, markdown],
    [files.loss, plots.loss],
    [files.cp, plots.cp],
    [files.centroid, plots.centroid],
    [files.phase, plots.phase],
    [files.envelope, plots.envelope],
  ];
  const written: string[] = [];
  for (const [name, text] of out) {
    const path = join(dir, name);
    if (text === undefined) {
      await Deno.remove(path).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      continue;
    }
    await writeTextAtomic(path, text);
    written.push(path);
  }
  return written;
}

/**
 * Writes the reports index, `<dir>/README.md`, and its plot of rates,
 * `<dir>/rates.svg` (removed when no hypothesis has a completed run);
 * returns the written paths. An existing README.md that is not a reports
 * index (a project's own) is never replaced: a
 * {@linkcode ReportOverwriteError} names it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeHypothesis, makeRun } from "../testing/records.ts";
 * import { writeIndex } from "./write.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const rows = [{
 *     hypothesis: makeHypothesis(),
 *     runs: [makeRun()],
 *     file: "11.2b-jiggling.md",
 *   }];
 *   assert.deepEqual(await writeIndex(dir, rows), [
 *     `${dir}/README.md`,
 *     `${dir}/rates.svg`,
 *   ]);
 *   assert.ok((await Deno.readTextFile(`${dir}/README.md`)).startsWith("# Reports"));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeIndex(
  dir: string,
  rows: readonly IndexRow[],
): Promise<string[]> {
  await checkOwnFiles(dir, null, [INDEX_FILE, INDEX_PLOT]);
  await Deno.mkdir(dir, { recursive: true });
  const plot = ratesPlot(rows);
  const path = join(dir, INDEX_FILE);
  const plotPath = join(dir, INDEX_PLOT);
  await writeTextAtomic(
    path,
    renderIndex(rows, plot === undefined ? {} : { plot: INDEX_PLOT }),
  );
  if (plot === undefined) {
    await Deno.remove(plotPath).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    return [path];
  }
  await writeTextAtomic(plotPath, plot);
  return [path, plotPath];
}
