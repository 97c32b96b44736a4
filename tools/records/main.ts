/**
 * `deno task records <command> [paths...]`: the run records on disk.
 *
 * - `migrate`: converts records of format 2 (arrays inline) in place to the
 *   current format (`migrate.ts`); current records are checked and left as
 *   they are, so it can be run again at any time.
 * - `verify`: reads every record as `run`, `report` and `record` do
 *   (digests, arrays file, every check) and names each one that fails.
 *
 * Paths are record files or folders searched for them; by default the
 * committed records (`reports/data`) and the cache (`.cache`, or
 * `HORIZON_CACHE_DIR`). Each failure is one line on stderr; the exit code is
 * 1 when any record failed, else 0.
 *
 * @module
 */

import { parseCliArgs, runCli, UsageError } from "../../src/cli/errors.ts";
import { CACHE_DIR, RECORDS_DIR } from "../../src/history/locations.ts";
import { readRecord, RecordError } from "../../src/history/records.ts";
import { arraysPath } from "../../src/history/record_file.ts";
import { migrateRecord, recordFilesUnder } from "./migrate.ts";

const USAGE =
  `Usage: deno task records migrate [paths...]   convert format-2 records in place
       deno task records verify [paths...]    check every record (digests, arrays, checks)
Paths: record files or folders (default: ${RECORDS_DIR} and ${CACHE_DIR}).`;

const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;

async function migrate(files: readonly string[]): Promise<number> {
  let converted = 0, current = 0, failed = 0, before = 0, after = 0;
  for (const path of files) {
    try {
      const m = await migrateRecord(path);
      if (m.outcome === "current") current++;
      else {
        converted++;
        before += m.bytesBefore;
        after += m.bytesAfter;
        console.log(`${path}: ${kB(m.bytesBefore)} -> ${kB(m.bytesAfter)}`);
      }
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      failed++;
      console.error(`error: ${e.message}`);
    }
  }
  console.log(
    `${converted} converted (${kB(before)} -> ${
      kB(after)
    }), ${current} already current, ${failed} failed`,
  );
  return failed > 0 ? 1 : 0;
}

async function verify(files: readonly string[]): Promise<number> {
  let failed = 0, bytes = 0;
  for (const path of files) {
    try {
      await readRecord(path);
      for (const p of [path, arraysPath(path)]) {
        bytes += (await Deno.stat(p)).size;
      }
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      failed++;
      console.error(`error: ${e.message}`);
    }
  }
  console.log(
    `${files.length - failed} records verified (${
      kB(bytes)
    }), ${failed} failed`,
  );
  return failed > 0 ? 1 : 0;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(args, {}, true);
  const [command, ...paths] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (command !== "migrate" && command !== "verify") {
    throw new UsageError(
      `${
        command === undefined ? "no command" : `unknown command "${command}"`
      } (migrate or verify)`,
    );
  }
  for (const p of paths) {
    if (!await Deno.stat(p).then(() => true, () => false)) {
      throw new UsageError(`${p}: no such file or folder`);
    }
  }
  const files = await recordFilesUnder(
    paths.length > 0 ? paths : [RECORDS_DIR, CACHE_DIR],
  );
  return command === "migrate" ? await migrate(files) : await verify(files);
}

if (import.meta.main) await runCli(() => main(Deno.args));
