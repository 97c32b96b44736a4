/**
 * Records kept in the cache, so that a run is trained once per cache rather
 * than once per records folder: the CI gate re-runs a hypothesis to check it
 * (it never trusts a record) and keeps the record and history it produced
 * under `<cache>/kept/<id>/`; every other run that writes its history keeps
 * a copy of its record there too ({@link keepRecord}). A run of the same run
 * key whose own records folder holds no record of it (`deno task run` after
 * a gate test; a sweep in a second checkout sharing the cache through
 * `HORIZON_CACHE_DIR`, once the first has finished the run) adopts the kept
 * record instead of training the same steps again.
 *
 * @module
 */

import { resolve } from "node:path";
import { DivergedError } from "../runtime/divergence.ts";
import { type RecordName, recordPath } from "./records.ts";
import { cachedRecord } from "./run_cache.ts";
import { copyRecordFiles } from "./record_file.ts";

/** Where the gate keeps the records of the runs it trained. */
export function keptRecordsDir(cacheDir: string): string {
  return `${cacheDir}/kept`;
}

/** Where the cache keeps the record of run `name`. */
export function keptRecordPath(cacheDir: string, name: RecordName): string {
  return recordPath(keptRecordsDir(cacheDir), name);
}

/**
 * Copies the gate's kept record of run `name` to `recordFile` when the kept
 * one carries run `key` (and its history, if named, is whole) and
 * `recordFile` holds no usable record of that key. Returns whether it did.
 * A diverged run is not adopted: `deno task run` re-runs it and says so.
 *
 * @example Nothing kept: nothing adopted
 * ```ts
 * import assert from "node:assert/strict";
 * import { adoptKeptRecord } from "./kept_records.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const name = { hypothesisId: "h", tier: "smoke", seed: 42, backend: "cpu" } as const;
 *   const adopted = await adoptKeptRecord(`${dir}/r.json`, name, "0".repeat(64), {
 *     cacheDir: dir,
 *   });
 *   assert.equal(adopted, false);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function adoptKeptRecord(
  recordFile: string,
  name: RecordName,
  key: string,
  options: { readonly cacheDir: string },
): Promise<boolean> {
  const quiet = { cacheDir: options.cacheDir, note: () => {} };
  const kept = keptRecordPath(options.cacheDir, name);
  try {
    if (await cachedRecord(recordFile, key, quiet)) return false;
    if (!await cachedRecord(kept, key, quiet)) return false;
  } catch (e) {
    if (e instanceof DivergedError) return false;
    throw e;
  }
  await copyRecordFiles(kept, recordFile);
  return true;
}

/**
 * Keeps a copy of the record at `recordFile` (run `name`) under the cache's
 * kept records, where a run of the same key in another records folder finds
 * it ({@link adoptKeptRecord}). Nothing to do when `recordFile` is the kept
 * one (the gate writes there).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keepRecord } from "./kept_records.ts";
 * import { readRecord, recordPath } from "./records.ts";
 * import { writeRecordFiles } from "./record_file.ts";
 * import { makeRun } from "../testing/records.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const name = { hypothesisId: "11.2b-jiggling", tier: "smoke", seed: 42, backend: "cpu" } as const;
 *   const record = { ...makeRun(), key: "0".repeat(64) };
 *   await writeRecordFiles(recordPath(`${dir}/records`, name), record);
 *   await keepRecord(recordPath(`${dir}/records`, name), name, { cacheDir: `${dir}/cache` });
 *   const kept = await readRecord(recordPath(`${dir}/cache/kept`, name));
 *   assert.equal(kept?.key, record.key);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function keepRecord(
  recordFile: string,
  name: RecordName,
  options: { readonly cacheDir: string },
): Promise<void> {
  const kept = keptRecordPath(options.cacheDir, name);
  if (resolve(kept) === resolve(recordFile)) return;
  await copyRecordFiles(recordFile, kept);
}
