/**
 * Converts run records of format 2 (every per-step array inline in the
 * JSON, ~660 kB for a 10,000-step run) in place to the current format: a
 * small JSON sealed by a digest and a compressed arrays file beside it
 * (`src/history/record_file.ts`, ~110 kB in all).
 *
 * A record is converted only when it passes every check a reader applies
 * (fields, C/P against clusters, trajectory, verdict), and it is replaced
 * only after its new form reads back (digest, arrays file's SHA-256, every
 * check) equal to the old one, every loss and gradient norm bit for bit
 * (`Object.is`); otherwise the old JSON is put back. Each file is written
 * atomically, the arrays file first, so an interrupted conversion leaves the
 * old record whole, and a second conversion finds it current: the command
 * is idempotent. Nothing in it changes a run key.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import { writeTextAtomic } from "../../src/io/atomic.ts";
import {
  checkRecord,
  parseRecordFile,
  readRecord,
  RecordError,
} from "../../src/history/records.ts";
import {
  arraysPath,
  readRecordObject,
  writeRecordFiles,
} from "../../src/history/record_file.ts";
import { RECORD_FORMAT, type RunRecord } from "../../src/hypothesis/types.ts";

/** What migrating one record did, with the sizes before and after. */
export interface Migrated {
  /** Path of the record's JSON. */
  readonly path: string;
  /** `converted` from format 2, or `current` (checked, left as it was). */
  readonly outcome: "converted" | "current";
  /** Bytes of the record before (JSON, and arrays file if any). */
  readonly bytesBefore: number;
  /** Bytes of the record after (JSON and arrays file). */
  readonly bytesAfter: number;
}

/** Bytes of a file, 0 when it does not exist. */
async function size(path: string): Promise<number> {
  return await Deno.stat(path).then((s) => s.size, () => 0);
}

/** Bytes of the record at `path`: its JSON and its arrays file. */
async function recordBytes(path: string, withArrays: boolean): Promise<number> {
  return await size(path) + (withArrays ? await size(arraysPath(path)) : 0);
}

/**
 * Converts the record at `path` to the current format when it is of format
 * 2, or checks it when it is current (see the module doc). Throws a
 * {@link RecordError} naming the file when it is neither, or fails a check.
 */
export async function migrateRecord(path: string): Promise<Migrated> {
  const old = await readRecordObject(path, { legacy: true });
  if (old === null) throw new RecordError(path, "no such file");
  if (old.format === RECORD_FORMAT) {
    await readRecord(path);
    const bytes = await recordBytes(path, true);
    return { path, outcome: "current", bytesBefore: bytes, bytesAfter: bytes };
  }
  if (old.format !== 2) {
    throw new RecordError(
      path,
      `format ${
        JSON.stringify(old.format)
      }: only format 2 converts (deno task rekey re-keys format 1)`,
    );
  }
  const text = await Deno.readTextFile(path);
  const record: RunRecord = {
    ...checkRecord(old, path, 2),
    format: RECORD_FORMAT,
  };
  const bytesBefore = await recordBytes(path, false);
  await writeRecordFiles(path, record);
  try {
    deepStrictEqual(await readRecord(path), record);
  } catch (e) {
    await writeTextAtomic(path, text);
    await Deno.remove(arraysPath(path)).catch(() => {});
    throw new RecordError(
      path,
      `its converted form does not read back equal (${
        (e as Error).message.split("\n")[0]
      }); left as it was`,
    );
  }
  return {
    path,
    outcome: "converted",
    bytesBefore,
    bytesAfter: await recordBytes(path, true),
  };
}

/**
 * The record files (JSON named like a record, `parseRecordFile`) under each
 * of `paths` (a folder, searched recursively, or a file, taken as it is),
 * sorted; a path that does not exist is skipped.
 */
export async function recordFilesUnder(
  paths: readonly string[],
): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && parseRecordFile(e.name)) found.add(path);
    }
  };
  for (const p of paths) {
    const stat = await Deno.stat(p).catch(() => null);
    if (stat?.isDirectory) await walk(p.replace(/\/+$/, ""));
    else if (stat?.isFile) found.add(p);
  }
  return [...found].sort();
}
