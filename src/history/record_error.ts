/**
 * The errors of a run record file that exists but cannot be used: a
 * malformed or edited one ({@link RecordError}), and one written before the
 * current format ({@link LegacyRecordError}), which is converted rather than
 * re-run.
 *
 * @module
 */

/** A record file that exists but cannot be used. */
export class RecordError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "RecordError";
  /** Path of the malformed record file. */
  readonly path: string;
  /** What is wrong with it, in words. */
  readonly problem: string;
  /**
   * Builds the error for the record at `path`, saying what is wrong with it.
   */
  constructor(path: string, problem: string) {
    super(`malformed run record ${path}: ${problem}`);
    this.path = path;
    this.problem = problem;
  }
}

/** The command that converts legacy records in place. */
export const MIGRATE_COMMAND = "deno task records migrate";

/**
 * A record in an older format (its per-step arrays inline in the JSON): not
 * damaged, so neither re-run nor refused as one, but converted by
 * {@link MIGRATE_COMMAND}, which every reader names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LegacyRecordError } from "./record_error.ts";
 * assert.equal(
 *   new LegacyRecordError("reports/data/h/full-seed1-cpu.json", 2).message,
 *   "run record reports/data/h/full-seed1-cpu.json is in format 2 (arrays inline); " +
 *     "convert it with: deno task records migrate reports/data/h/full-seed1-cpu.json",
 * );
 * ```
 */
export class LegacyRecordError extends RecordError {
  /** Error name, shown in messages and stack traces. */
  override name = "LegacyRecordError";
  /** Builds the error for the format-`format` record at `path`. */
  constructor(path: string, format: number) {
    super(path, `format ${format} (arrays inline)`);
    this.message =
      `run record ${path} is in format ${format} (arrays inline); ` +
      `convert it with: ${MIGRATE_COMMAND} ${path}`;
  }
}
