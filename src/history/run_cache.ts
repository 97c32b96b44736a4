/**
 * The record cache: a run whose record is already on disk is not trained
 * again. A cached record is used only when it parses, passes its own checks
 * (`record_checks.ts`), its run key is the one computed today and its
 * embedding history (when it names one) is whole; a history that is merely
 * absent from this machine is said, not re-run for. A record that fails its
 * checks is discarded and re-run when it lies under the cache directory; a
 * record anywhere else (`reports/data`, an `--out` folder) is committed
 * evidence, so it is refused with the command that re-creates it rather than
 * silently replaced. A record in the previous format (arrays inline) is
 * neither: wherever it lies, reading it is an error naming the command that
 * converts it (`deno task records migrate`), so a run that took hours is
 * never trained again for want of a conversion.
 *
 * @module
 */

import { rememberingDigest } from "../io/remembered_digest.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { resolve, sep } from "node:path";
import {
  LegacyRecordError,
  readRecord,
  RecordError,
  refusal,
} from "./records.ts";
import type { HistoryFileRecord, RunRecord } from "../hypothesis/types.ts";

/**
 * Histories hashed by this process: `deno task run` checks the cached
 * record before the run lock (adopting a gate's kept run) and again under
 * it, and a full-tier history is hundreds of megabytes.
 */
const historyDigest = rememberingDigest();

/**
 * Why a record's history file cannot back it: `"missing"`, another problem
 * in words, or null when the file is there with the size and SHA-256 the
 * record names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { historyProblem } from "./run_cache.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/h.safetensors`, "abc");
 *   const named = {
 *     file: "h.safetensors",
 *     bytes: 3,
 *     sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 *   };
 *   assert.equal(await historyProblem(named, dir), null);
 *   assert.match(await historyProblem({ ...named, bytes: 4 }, dir) ?? "", /truncated/);
 *   assert.equal(await historyProblem({ ...named, file: "gone" }, dir), "missing");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function historyProblem(
  h: HistoryFileRecord,
  cacheDir: string,
): Promise<string | null> {
  const path = `${cacheDir}/${h.file}`;
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch {
    return "missing";
  }
  if (stat.size !== h.bytes) {
    return `${stat.size} bytes, the record says ${h.bytes} (truncated or replaced)`;
  }
  const { sha256 } = await historyDigest(path);
  return sha256 === h.sha256 ? null : "its SHA-256 differs from the record's";
}

/** Whether `path` lies inside the folder `dir`. */
function isInside(path: string, dir: string): boolean {
  return resolve(path).startsWith(resolve(dir) + sep);
}

/**
 * The usable record at `recordFile` for run `key`, or null (a cache miss,
 * with the reason told to `note`). A malformed record outside `cacheDir`
 * throws a {@link RecordError} naming the command that re-creates it; a
 * legacy one anywhere a {@link LegacyRecordError}. The cached record of a
 * run that diverged answers as that run did: it throws its
 * {@link DivergedError}.
 *
 * @example Nothing on disk: a miss
 * ```ts
 * import assert from "node:assert/strict";
 * import { cachedRecord } from "./run_cache.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const notes: string[] = [];
 *   const record = await cachedRecord(`${dir}/r.json`, "0".repeat(64), {
 *     cacheDir: dir,
 *     note: (n) => notes.push(n),
 *   });
 *   assert.equal(record, null);
 *   assert.deepEqual(notes, []);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function cachedRecord(
  recordFile: string,
  key: string,
  options: { readonly cacheDir: string; readonly note: (s: string) => void },
): Promise<RunRecord | null> {
  const { cacheDir, note } = options;
  let cached: RunRecord | null = null;
  try {
    cached = await readRecord(recordFile);
  } catch (e) {
    if (!(e instanceof RecordError) || e instanceof LegacyRecordError) throw e;
    if (!isInside(recordFile, cacheDir)) throw refusal(e);
    note(`${e.message}; discarded, re-running`);
  }
  if (cached && cached.key !== key) {
    note(`${recordFile} is stale (its run key differs); re-running`);
    cached = null;
  }
  if (cached?.history) {
    const problem = await historyProblem(cached.history, cacheDir);
    if (problem === "missing") {
      note(
        `the embedding history ${cached.history.file} is not on this machine (--force regenerates it)`,
      );
    } else if (problem) {
      note(
        `the embedding history ${cached.history.file} is unusable (${problem}); re-running`,
      );
      cached = null;
    }
  }
  if (cached?.status === "diverged" && cached.divergence) {
    throw new DivergedError(cached.divergence, {
      losses: Float32Array.from(cached.loss),
      gradNorms: Float32Array.from(cached.gradNorm),
    });
  }
  return cached;
}
