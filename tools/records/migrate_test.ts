// `deno task records migrate` rewrites committed science records in place,
// so each of its paths is checked: a format-2 record converts to one that
// reads back equal (every loss bit), a second run changes nothing, a record
// that contradicts itself is left as it was, and the CLI says what it did.

import assert from "node:assert/strict";
import {
  listDir,
  runScript,
  tinyHypothesis,
  withTempDir,
} from "../../src/testing/helpers.ts";
import { runHypothesisDetailed } from "../../src/run/run.ts";
import { readRecord, RecordError } from "../../src/history/records.ts";
import { removeRecordFiles } from "../../src/history/record_file.ts";
import type { RunRecord } from "../../src/hypothesis/types.ts";
import { migrateRecord, recordFilesUnder } from "./migrate.ts";

const H = tinyHypothesis("migrate-tiny");

/** A tiny run's record rewritten as format 2 wrote it: one line, arrays inline. */
async function legacyRecord(dir: string): Promise<[string, RunRecord]> {
  const run = await runHypothesisDetailed(H, {
    tier: "smoke",
    backend: "cpu",
    recordsDir: `${dir}/records`,
    cacheDir: `${dir}/cache`,
    writeHistory: false,
  });
  const path = run.path!;
  await removeRecordFiles(path);
  await Deno.writeTextFile(
    path,
    JSON.stringify({ ...run.record, format: 2 }) + "\n",
  );
  return [path, run.record];
}

Deno.test("migrate: a format-2 record converts to one that reads back equal; a second run changes nothing", async () => {
  await withTempDir(async (dir) => {
    const [path, record] = await legacyRecord(dir);
    const old = await Deno.readTextFile(path);
    const m = await migrateRecord(path);
    assert.equal(m.outcome, "converted");
    assert.equal(m.bytesBefore, old.length);
    const back = (await readRecord(path))!;
    assert.deepStrictEqual(back, record);
    // Format 2 was JSON.stringify of the record: the same text comes back.
    assert.equal(JSON.stringify({ ...back, format: 2 }) + "\n", old);
    assert.deepEqual(await listDir(`${dir}/records/${H.id}`), [
      "smoke-seed42-cpu.json",
      "smoke-seed42-cpu.safetensors.gz",
    ]);
    const files = async () =>
      await Promise.all(
        (await listDir(`${dir}/records/${H.id}`)).map((f) =>
          Deno.readFile(`${dir}/records/${H.id}/${f}`)
        ),
      );
    const converted = await files();
    assert.equal((await migrateRecord(path)).outcome, "current");
    assert.deepEqual(await files(), converted, "untouched");
  });
});

Deno.test("migrate: a format-2 record that contradicts itself is named and left as it was", async () => {
  await withTempDir(async (dir) => {
    const [path, record] = await legacyRecord(dir);
    const final = record.final!;
    const edited = JSON.stringify({
      ...record,
      format: 2,
      final: { ...final, C: final.C + 1 },
    });
    await Deno.writeTextFile(path, edited);
    await assert.rejects(migrateRecord(path), (e: Error) => {
      assert.ok(e instanceof RecordError);
      assert.equal(e.path, path);
      assert.match(e.message, /final\.C is \d+ but \d+ clusters are listed/);
      return true;
    });
    assert.equal(await Deno.readTextFile(path), edited);
    assert.deepEqual(await listDir(`${dir}/records/${H.id}`), [
      "smoke-seed42-cpu.json",
    ]);
  });
});

Deno.test("records migrate/verify (CLI): every record under the folders named, one line per failure, exit 1 on any", async () => {
  await withTempDir(async (dir) => {
    const [path] = await legacyRecord(dir);
    await Deno.writeTextFile(`${dir}/records/${H.id}/outcomes.json`, "[]");
    assert.deepEqual(await recordFilesUnder([`${dir}/records`]), [path]);
    const cli = (...args: string[]) =>
      runScript(new URL("./main.ts", import.meta.url).pathname, args);
    let r = await cli("verify", `${dir}/records`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is in format 2 \(arrays inline\); convert it with/);
    r = await cli("migrate", `${dir}/records`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^1 converted \(.* kB -> .* kB\), 0 already current, 0 failed$/m,
    );
    r = await cli("migrate", `${dir}/records`);
    assert.match(r.stdout, /^0 converted .*, 1 already current, 0 failed$/m);
    r = await cli("verify", path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1 records verified/m);
    await Deno.writeTextFile(
      path,
      (await Deno.readTextFile(path)).replace('"seed": 42', '"seed": 43'),
    );
    r = await cli("verify", `${dir}/records`);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /its content does not match its digest/);
    r = await cli("frobnicate");
    assert.equal(r.code, 2);
  });
});
