/**
 * Writes reports to disk: `<id>.md` with its SVG plots (loss, C/P, centroid;
 * a phase diagram for a sweep; an envelope over replicates), and the
 * `README.md` index.
 *
 * Each file is written to a temporary file in the same directory and then
 * renamed over the target, so a reader (or a crash) never sees a half-written
 * report; a rename within one directory is atomic on POSIX file systems.
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
}

/**
 * Renders and writes a hypothesis's report and plots into `dir` (created
 * if missing); returns the written paths, report first. The phase diagram
 * and the envelope are written only when there is one to draw (a sweep; two
 * completed runs at the hypothesis's own config); a stale one left by an
 * earlier report is removed, so the report never sits beside a plot it
 * does not link.
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
 * Writes the reports index, `<dir>/README.md`; returns its path in a list.
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
 *   assert.deepEqual(await writeIndex(dir, rows), [`${dir}/README.md`]);
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
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "README.md");
  await writeTextAtomic(path, renderIndex(rows));
  return [path];
}
