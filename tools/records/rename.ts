/**
 * `deno task rekey --rename [ids...]`: moves run records to the file names
 * the code gives their runs today, after a change of naming (issue 18: sweep
 * points in words instead of a hash), proving that only the name changes.
 *
 * A record is renamed only when:
 * - it parses as a record, every field checked, and its fields agree with
 *   its old file name (tier, seed, backend);
 * - the run it describes (that tier, seed, backend and step count, its
 *   overrides, the default corpus) prepares today to exactly the record's
 *   run key and identity: its contents are current, so the file is the
 *   evidence of that run and nothing in it needs to change;
 * - its new name is the file that run reads (`prepareRun`'s `recordFile`:
 *   where `run`, `sweep` and the cache look) and no other file is there or
 *   moving there.
 *
 * The record (its JSON and its arrays file) is then moved within its
 * directory, its bytes untouched (git sees a rename at 100% similarity),
 * and checked at the new name: the same SHA-256s as before, read back with the record's key (what the run cache
 * reads), and, for a whole-tier record, among the records reports and
 * `deno task record` read for its point (`recordsOf`). When a check fails,
 * every move of that hypothesis is undone.
 *
 * Records of another corpus are left as they are: they are named by a hash
 * of their overrides and corpus, which the renaming did not change.
 *
 * @module
 */

import { fileDigest } from "../../src/io/file_digest.ts";
import {
  DEFAULT_CORPUS_PATH,
  parseRecordFile,
  readRecord,
  RecordError,
  recordsOf,
} from "../../src/history/records.ts";
import { parseOverride } from "../../src/hypothesis/overrides.ts";
import type { Hypothesis, RunRecord } from "../../src/hypothesis/types.ts";
import { prepareRun } from "../../src/run/prepare.ts";
import { canonicalJson } from "../../src/step/config.ts";
import { pathExists } from "../../src/io/path_exists.ts";
import {
  arraysPath,
  renameRecordFiles,
} from "../../src/history/record_file.ts";

/** One record moved from one name to another. */
export interface RecordRename {
  /** Path of the record before. */
  readonly from: string;
  /** Path of the record after: where the code looks for its run. */
  readonly to: string;
}

/** A rename that passed every check before the move. */
interface Planned extends RecordRename {
  /** SHA-256s of its files' bytes, checked again after the move. */
  readonly sha256: string;
  /** The record, as read at its old name. */
  readonly record: RunRecord;
  /** Whether it is a whole-tier run (no `--steps`): one `recordsOf` reads. */
  readonly wholeTier: boolean;
}

/** SHA-256s of the record's JSON and arrays file. */
async function sha256File(path: string): Promise<string> {
  const json = (await fileDigest(path)).sha256;
  return `${json} ${(await fileDigest(arraysPath(path))).sha256}`;
}

/** Checks one record file and returns its rename, or null when none is due. */
async function planOne(
  dir: string,
  h: Hypothesis,
  file: string,
): Promise<Planned | null> {
  const n = parseRecordFile(file);
  if (!n) return null;
  const from = `${dir}/${h.id}/${file}`;
  const r = (await readRecord(from))!;
  if (
    r.hypothesisId !== h.id || r.tier !== n.tier || r.seed !== n.seed ||
    r.backend !== n.backend
  ) {
    throw new RecordError(from, "its fields do not match its file name");
  }
  if (r.corpus.path !== DEFAULT_CORPUS_PATH) return null;
  const p = await prepareRun(h, {
    tier: r.tier,
    seed: r.seed,
    backend: r.backend,
    overrides: r.overrides.map(parseOverride),
    steps: n.steps,
    recordsDir: dir,
  });
  if (p.steps !== r.steps || p.overrides.join(" ") !== r.overrides.join(" ")) {
    throw new RecordError(
      from,
      `its run has ${p.steps} steps and overrides [${p.overrides}] today, the record ${r.steps} and [${r.overrides}]`,
    );
  }
  if (
    p.key !== r.key ||
    canonicalJson(p.identity) !== canonicalJson(r.identity)
  ) {
    throw new RecordError(
      from,
      "its run key is not the one its run has today; prove and re-key it first (deno task rekey), then rename",
    );
  }
  if (p.recordFile === from) return null;
  return {
    from,
    to: p.recordFile,
    sha256: await sha256File(from),
    record: r,
    wholeTier: n.steps === undefined,
  };
}

/** The checks after the moves (see the module doc); throws on the first miss. */
async function checkMoved(
  dir: string,
  h: Hypothesis,
  moved: readonly Planned[],
): Promise<void> {
  for (const m of moved) {
    if (await sha256File(m.to) !== m.sha256) {
      throw new Error(`${m.to}: its bytes changed in the move`);
    }
    if ((await readRecord(m.to))?.key !== m.record.key) {
      throw new Error(`${m.to}: not read back with its run key`);
    }
  }
  for (const tier of ["smoke", "full"] as const) {
    const whole = moved.filter((m) => m.wholeTier && m.record.tier === tier);
    if (whole.length === 0) continue;
    const points = [...new Set(whole.map((m) => m.record.overrides.join(" ")))];
    const found = new Set(
      (await recordsOf(dir, h.id, tier, h.config.seed, points)).map((r) =>
        r.key
      ),
    );
    for (const m of whole) {
      if (!found.has(m.record.key)) {
        throw new Error(`${m.to}: not among the records of its point`);
      }
    }
  }
}

/**
 * Renames every record of `h` under `dir` whose name is not the one the
 * code gives its run today, after the checks of the module doc; returns the
 * renames done. Throws, renaming nothing of `h`, when a check fails.
 */
export async function renameRecords(
  dir: string,
  h: Hypothesis,
): Promise<RecordRename[]> {
  const planned: Planned[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/${h.id}`)) {
      if (!e.isFile) continue;
      const p = await planOne(dir, h, e.name);
      if (p) planned.push(p);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const targets = new Set<string>();
  for (const p of planned) {
    if (targets.has(p.to)) {
      throw new Error(`two records of ${h.id} would be named ${p.to}`);
    }
    targets.add(p.to);
    if (await pathExists(p.to)) {
      throw new Error(`${p.from}: ${p.to} already exists; not renaming`);
    }
  }
  planned.sort((a, b) => a.from < b.from ? -1 : a.from > b.from ? 1 : 0);
  const moved: Planned[] = [];
  try {
    for (const p of planned) {
      await renameRecordFiles(p.from, p.to);
      moved.push(p);
    }
    await checkMoved(dir, h, moved);
  } catch (e) {
    for (const m of moved.reverse()) await renameRecordFiles(m.to, m.from);
    throw e;
  }
  return planned.map(({ from, to }) => ({ from, to }));
}
