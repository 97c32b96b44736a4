/**
 * The records of a worker's runs that diverged. A run builds its `diverged`
 * record (its losses up to the divergence, verdict `invalid`) only when it
 * saves its record, so a queue worker has its pack save records into a
 * private temporary folder and picks the diverged ones up from there; the
 * job then completes with that record, and the submitter writes it where a
 * local run (or the pool) would have written the same record.
 *
 * @module
 */

import type { RunSpec } from "../plan.ts";
import type { RunRecord } from "../../hypothesis/types.ts";
import { readRecord } from "../../history/records.ts";

/** A private records folder, removed on dispose. */
export interface DivergedRecords {
  /** Where the pack's runs save their records. */
  readonly dir: string;
  /** The `diverged` record of `spec` saved there, or null. */
  find(spec: RunSpec): Promise<RunRecord | null>;
  /** Removes the folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Makes a private records folder (see the module doc). */
export async function divergedRecords(): Promise<DivergedRecords> {
  const dir = await Deno.makeTempDir({ prefix: "horizon_worker_records_" });
  return {
    dir,
    async find(spec) {
      for (const path of await jsonFiles(dir)) {
        let record: RunRecord | null;
        try {
          record = await readRecord(path);
        } catch {
          continue;
        }
        if (
          record && record.status === "diverged" && record.key === spec.key &&
          record.seed === spec.seed &&
          record.overrides.join(" ") === spec.overrides.join(" ")
        ) return record;
      }
      return null;
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await jsonFiles(path));
    else if (e.isFile && e.name.endsWith(".json")) out.push(path);
  }
  return out;
}
