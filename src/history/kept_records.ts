/**
 * Runs the CI gate trained, kept in the cache so that training them is not
 * repeated: the gate re-runs a hypothesis to check it (it never trusts a
 * record), keeps the record and history it produced under
 * `<cache>/kept/<id>/`, and `deno task run` of the same run key adopts that
 * record instead of training the same steps again.
 *
 * @module
 */

import { DivergedError } from "../runtime/divergence.ts";
import { type RecordName, recordPath } from "./records.ts";
import { cachedRecord } from "./run_cache.ts";
import { copyRecordFiles } from "./record_file.ts";

/** Where the gate keeps the records of the runs it trained. */
export function keptRecordsDir(cacheDir: string): string {
  return `${cacheDir}/kept`;
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
  const kept = recordPath(keptRecordsDir(options.cacheDir), name);
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
