import assert from "node:assert/strict";
import { reportRecords } from "../cli/report.ts";
import { listDir, tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import {
  parseRecord,
  readRecord,
  RecordError,
  recordPath,
  recordsOf,
} from "./records.ts";
import { runHypothesisDetailed } from "../run/run.ts";
import type { RunRecord } from "../hypothesis/types.ts";

const TINY = tinyHypothesis("tiny-check");

async function tinyRun(dir: string, extra: Record<string, unknown> = {}) {
  return await runHypothesisDetailed(TINY, {
    tier: "smoke",
    backend: "cpu",
    recordsDir: `${dir}/records`,
    cacheDir: `${dir}/cache`,
    ...extra,
  });
}

Deno.test("a record with the right key but no final numbers is named and treated as a cache miss", async () => {
  await withTempDir(async (dir) => {
    const first = await tinyRun(dir);
    assert.equal(first.cached, false);
    const path = first.path!;
    const broken = { ...first.record } as Record<string, unknown>;
    delete broken.final;
    await Deno.writeTextFile(path, JSON.stringify(broken));
    await assert.rejects(readRecord(path), (e: Error) => {
      assert.ok(e instanceof RecordError);
      assert.match(
        e.message,
        /^malformed run record .*smoke-seed42-cpu\.json: final is not an object$/,
      );
      return true;
    });
    const notes: string[] = [];
    const again = await tinyRun(dir, { onNote: (n: string) => notes.push(n) });
    assert.equal(again.cached, false, "re-ran");
    assert.match(
      notes.join("\n"),
      /malformed run record .*; treated as a cache miss/,
    );
    assert.deepEqual(again.record.loss, first.record.loss);
    assert.ok(
      (await readRecord(path))!.final,
      "the record was rewritten whole",
    );
  });
});

Deno.test("a cache hit checks its history file: corrupt or truncated re-runs, missing is said", async () => {
  await withTempDir(async (dir) => {
    const first = await tinyRun(dir);
    const h = first.record.history!;
    assert.ok(h.bytes > 0 && /^[0-9a-f]{64}$/.test(h.sha256));
    const file = `${dir}/cache/${h.file}`;
    assert.equal((await Deno.stat(file)).size, h.bytes);
    assert.equal((await tinyRun(dir)).cached, true);

    // Same size, one byte flipped.
    const bytes = await Deno.readFile(file);
    bytes[bytes.length - 1] ^= 1;
    await Deno.writeFile(file, bytes);
    let notes: string[] = [];
    const afterFlip = await tinyRun(dir, {
      onNote: (n: string) => notes.push(n),
    });
    assert.equal(afterFlip.cached, false);
    assert.match(notes.join("\n"), /SHA-256 differs/);

    // Truncated.
    await Deno.truncate(file, 100);
    notes = [];
    assert.equal(
      (await tinyRun(dir, { onNote: (n: string) => notes.push(n) })).cached,
      false,
    );
    assert.match(
      notes.join("\n"),
      /100 bytes, the record says \d+ \(truncated/,
    );

    // Missing: the record still stands (reports need only the record).
    await Deno.remove(file);
    notes = [];
    assert.equal(
      (await tinyRun(dir, { onNote: (n: string) => notes.push(n) })).cached,
      true,
    );
    assert.match(notes.join("\n"), /not on this machine/);
  });
});

Deno.test("a stale key re-runs; cpu and wasm records of one run live side by side", async () => {
  await withTempDir(async (dir) => {
    const cpu = await tinyRun(dir);
    const text = await Deno.readTextFile(cpu.path!);
    await Deno.writeTextFile(
      cpu.path!,
      text.replace(cpu.record.key, "0".repeat(64)),
    );
    const notes: string[] = [];
    const again = await tinyRun(dir, { onNote: (n: string) => notes.push(n) });
    assert.equal(again.cached, false);
    assert.match(notes.join("\n"), /stale/);
    const wasm = await tinyRun(dir, { backend: "wasm" });
    assert.equal(wasm.cached, false, "another backend is another run");
    assert.notEqual(wasm.record.key, cpu.record.key);
    assert.deepEqual(await listDir(`${dir}/records/tiny-check`), [
      "smoke-seed42-cpu.json",
      "smoke-seed42-wasm.json",
    ]);
    // And the cpu record is still the cpu one.
    assert.equal((await readRecord(cpu.path!))!.backend, "cpu");
  });
});

Deno.test("a diverged run keeps an invalid record, and its cached answer is the same error", async () => {
  await withTempDir(async (dir) => {
    const diverging = { overrides: [{ path: "adamw.lr", value: 1e6 }] };
    await assert.rejects(
      tinyRun(dir, diverging),
      /diverged at step \d+ \(loss/,
    );
    const [name] = await listDir(`${dir}/records/tiny-check`);
    const r = (await readRecord(`${dir}/records/tiny-check/${name}`))!;
    assert.equal(r.status, "diverged");
    assert.equal(r.verdict, "invalid");
    assert.equal(r.final, null);
    assert.equal(r.loss.length, r.divergence!.step);
    await assert.rejects(tinyRun(dir, diverging), /diverged at step/);
  });
});

Deno.test("parseRecord refuses records whose verdict does not follow from C and P, or diverged ones with a verdict", async () => {
  await withTempDir(async (dir) => {
    const { record } = await tinyRun(dir);
    const text = (r: RunRecord | Record<string, unknown>) => JSON.stringify(r);
    assert.equal(parseRecord(text(record), "r.json").key, record.key);
    assert.throws(
      () =>
        parseRecord(
          text({
            ...record,
            verdict: record.verdict === "null" ? "positive" : "null",
          }),
          "r.json",
        ),
      /r\.json: verdict .* does not follow from C and P/,
    );
    assert.throws(
      () =>
        parseRecord(
          text({
            ...record,
            status: "diverged",
            final: null,
            divergence: { step: record.steps, quantity: "loss", value: null },
          }),
          "r.json",
        ),
      /a diverged run's verdict must be invalid/,
    );
    assert.throws(
      () => parseRecord("{", "r.json"),
      /malformed run record r\.json: not JSON/,
    );
    assert.throws(
      () => parseRecord(text({ ...record, format: 1 }), "r.json"),
      /format 1, expected 2/,
    );
  });
});

Deno.test("report: a truncated full record is an error naming it, never a silent fall-back to the smoke tier", async () => {
  await withTempDir(async (dir) => {
    const { record } = await tinyRun(dir);
    const records = `${dir}/records`;
    const full = { ...record, tier: "full" };
    const fullPath = `${records}/tiny-check/full-seed42-cpu.json`;
    const fullText = JSON.stringify(full);
    await Deno.writeTextFile(fullPath, fullText.slice(0, fullText.length / 2));
    await assert.rejects(
      reportRecords(TINY, undefined, records),
      /malformed run record .*full-seed42-cpu\.json: not JSON/,
    );
    await Deno.writeTextFile(fullPath, fullText);
    const picked = await reportRecords(TINY, undefined, records);
    assert.deepEqual(picked.map((r) => r.tier), ["full"]);
    assert.equal(
      (await recordsOf(records, "tiny-check", "smoke", 42)).length,
      1,
    );
  });
});

Deno.test("record paths carry tier, seed and backend; shortened and variant runs never replace the tier's record", () => {
  const n = { hypothesisId: "x", tier: "full" as const, seed: 42 };
  assert.equal(
    recordPath("/r", { ...n, backend: "cpu" }),
    "/r/x/full-seed42-cpu.json",
  );
  // cpu and wasm records of one run live side by side.
  assert.equal(
    recordPath("/r", { ...n, backend: "wasm" }),
    "/r/x/full-seed42-wasm.json",
  );
  assert.equal(
    recordPath("/r", { ...n, tier: "smoke", backend: "cpu", steps: 12 }),
    "/r/x/smoke-seed42-cpu-12steps.json",
  );
  assert.equal(
    recordPath("/r", { ...n, backend: "cpu", variant: "0badcafe" }),
    "/r/x/full-seed42-cpu-0badcafe.json",
  );
});
