import assert from "node:assert/strict";
import { reportRecords } from "../cli/report.ts";
import { listDir, tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import {
  MAX_POINT_WORDS,
  parseRecord,
  parseRecordFile,
  readRecord,
  RecordError,
  recordPath,
  recordsOf,
  recordStem,
  recordVariant,
} from "./records.ts";
import { LegacyRecordError } from "./record_error.ts";
import { decodeArrays, encodeArrays } from "./record_arrays.ts";
import {
  arraysPath,
  copyRecordFiles,
  removeRecordFiles,
  renameRecordFiles,
  writeRecordFiles,
} from "./record_file.ts";
import { runHypothesisDetailed } from "../run/run.ts";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";
import { parseOverride } from "../hypothesis/overrides.ts";
import { pointLabel, sweepPoints } from "../hypothesis/grid.ts";
import { SEED_RUN } from "../step/config.ts";

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

Deno.test("a broken record under the cache is named, discarded and re-run; a committed one is refused with the command that re-creates it", async () => {
  await withTempDir(async (dir) => {
    const cache = { recordsDir: `${dir}/cache/records` };
    const first = await tinyRun(dir, cache);
    assert.equal(first.cached, false);
    const path = first.path!;
    const broken = { ...first.record } as Record<string, unknown>;
    delete broken.final;
    // Written wrong, not edited: its digests are right, its fields are not.
    await writeRecordFiles(path, broken as unknown as RunRecord);
    await assert.rejects(readRecord(path), (e: Error) => {
      assert.ok(e instanceof RecordError);
      assert.match(
        e.message,
        /^malformed run record .*smoke-seed42-cpu\.json: final is not an object$/,
      );
      return true;
    });
    const notes: string[] = [];
    const again = await tinyRun(dir, {
      ...cache,
      onNote: (n: string) => notes.push(n),
    });
    assert.equal(again.cached, false, "re-ran");
    assert.match(
      notes.join("\n"),
      /malformed run record .*smoke-seed42-cpu\.json: final is not an object; discarded, re-running/,
    );
    assert.deepEqual(again.record.loss, first.record.loss);
    assert.ok(
      (await readRecord(path))!.final,
      "the record was rewritten whole",
    );

    // The same record in a records folder outside the cache: refused.
    const committed = await tinyRun(dir);
    await writeRecordFiles(committed.path!, broken as unknown as RunRecord);
    const brokenText = await Deno.readTextFile(committed.path!);
    await assert.rejects(
      tinyRun(dir),
      (e: Error) => {
        assert.ok(e instanceof RecordError);
        assert.equal(e.message.split("\n").length, 1);
        assert.match(
          e.message,
          /^malformed run record .*records\/tiny-check\/smoke-seed42-cpu\.json: final is not an object; re-create it with: deno task run tiny-check --tier smoke --seed 42 --backend cpu --out \S+\/records --force$/,
        );
        return true;
      },
    );
    assert.equal(
      await Deno.readTextFile(committed.path!),
      brokenText,
      "the committed file is left as it was",
    );
    const forced = await tinyRun(dir, { useCache: false });
    assert.deepEqual(
      forced.record.final,
      first.record.final,
      "--force re-creates it",
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
    await writeRecordFiles(cpu.path!, { ...cpu.record, key: "0".repeat(64) });
    const notes: string[] = [];
    const again = await tinyRun(dir, { onNote: (n: string) => notes.push(n) });
    assert.equal(again.cached, false);
    assert.match(notes.join("\n"), /stale/);
    const wasm = await tinyRun(dir, { backend: "wasm" });
    assert.equal(wasm.cached, false, "another backend is another run");
    assert.notEqual(wasm.record.key, cpu.record.key);
    assert.deepEqual(await listDir(`${dir}/records/tiny-check`), [
      "smoke-seed42-cpu.json",
      "smoke-seed42-cpu.safetensors.gz",
      "smoke-seed42-wasm.json",
      "smoke-seed42-wasm.safetensors.gz",
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
    assert.match(name, /\.json$/);
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
      /format 1, expected 3/,
    );
  });
});

Deno.test("report: a truncated full record is an error naming it, never a silent fall-back to the smoke tier", async () => {
  await withTempDir(async (dir) => {
    const { record } = await tinyRun(dir);
    const records = `${dir}/records`;
    const full = { ...record, tier: "full" as const };
    const fullPath = `${records}/tiny-check/full-seed42-cpu.json`;
    await writeRecordFiles(fullPath, full);
    const fullText = await Deno.readTextFile(fullPath);
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

const BROWN = { isDefault: true, sha256: "ab".repeat(32) };

Deno.test("a sweep record is named by its point in words, numbers as the hypothesis writes them", async () => {
  // 11.2f's axis as its hypothesis file writes it, and the names by hand.
  const h = {
    config: SEED_RUN,
    sweep: [{
      path: "noise.scale",
      values: [1e-9, 3e-9, 1e-8, 3e-8, 1e-7, 3e-7, 1e-6, 3e-6, 1e-5, 3e-5],
    }],
  } as unknown as Hypothesis;
  const names = [];
  for (const p of sweepPoints(h)) {
    names.push(recordStem({
      hypothesisId: "11.2f-noise-sweep",
      tier: "full",
      seed: 1,
      backend: "cpu",
      variant: await recordVariant(p, BROWN),
    }));
  }
  assert.deepEqual(names, [
    "full-seed1-cpu-noise.scale=1e-9",
    "full-seed1-cpu-noise.scale=3e-9",
    "full-seed1-cpu-noise.scale=1e-8",
    "full-seed1-cpu-noise.scale=3e-8",
    "full-seed1-cpu-noise.scale=1e-7",
    "full-seed1-cpu-noise.scale=3e-7",
    "full-seed1-cpu-noise.scale=1e-6",
    "full-seed1-cpu-noise.scale=3e-6",
    "full-seed1-cpu-noise.scale=1e-5",
    "full-seed1-cpu-noise.scale=3e-5",
  ]);
  // The override text the record stores prints JSON's 0.000001; the name
  // does not.
  assert.equal(pointLabel(sweepPoints(h)[6]), "noise.scale=0.000001");
  assert.equal(
    recordPath("/r", {
      hypothesisId: "11.2f-noise-sweep",
      tier: "full",
      seed: 2,
      backend: "cpu",
      steps: 10000,
      variant: await recordVariant(
        [parseOverride("noise.scale=0.00001")],
        BROWN,
      ),
    }),
    "/r/11.2f-noise-sweep/full-seed2-cpu-10000steps-noise.scale=1e-5.json",
  );
});

Deno.test("a point of several axes joins them with +; other values keep their words", async () => {
  const point = [
    "noise.scale=3e-5",
    "model.norm=rmsnorm",
    "adamw.lr=0.0003",
    "autocast=true",
    "noise=null",
    "adamw.weightDecay=0.1",
    "adamw.beta2=-2",
    "maxSteps=20000000",
  ].map(parseOverride);
  assert.equal(
    await recordVariant(point.slice(0, 3), BROWN),
    "noise.scale=3e-5+model.norm=rmsnorm+adamw.lr=3e-4",
  );
  assert.equal(
    await recordVariant(point.slice(3), BROWN),
    "autocast=true+noise=null+adamw.weightDecay=0.1+adamw.beta2=-2+maxSteps=2e7",
  );
});

Deno.test("another corpus, a character outside [A-Za-z0-9._=-] or an over-long point fall back to a hash", async () => {
  const hex = /^[0-9a-f]{8}$/;
  const point = [parseOverride("noise.scale=1e-6")];
  const other = { ...BROWN, isDefault: false };
  assert.match((await recordVariant(point, other))!, hex);
  assert.match((await recordVariant([], other))!, hex);
  // The hash covers the overrides and the corpus, as it always did.
  assert.notEqual(
    await recordVariant(point, other),
    await recordVariant([], other),
  );
  assert.notEqual(
    await recordVariant(point, other),
    await recordVariant(point, { ...other, sha256: "cd".repeat(32) }),
  );
  for (const value of ["a b", "a/b", "a+b", "ü", "a:b"]) {
    assert.match(
      (await recordVariant([{ path: "model.norm", value }], BROWN))!,
      hex,
      value,
    );
  }
  const long = Array.from(
    { length: 6 },
    (_, i) => parseOverride(`adamw.beta${i}=0.12345678901234`),
  );
  assert.ok(
    long.map((o) => `${o.path}=${o.value}`).join("+").length > MAX_POINT_WORDS,
  );
  assert.match((await recordVariant(long, BROWN))!, hex);
  assert.equal(
    await recordVariant(long.slice(0, 2), BROWN),
    "adamw.beta0=0.12345678901234+adamw.beta1=0.12345678901234",
  );
});

Deno.test("a record file name parses back to the name it was made from", () => {
  const names = [
    { tier: "smoke" as const, seed: 42, backend: "cpu" as const },
    { tier: "full" as const, seed: 7, backend: "wasm" as const, steps: 12 },
    {
      tier: "full" as const,
      seed: 1,
      backend: "cpu" as const,
      variant: "noise.scale=1e-6+model.norm=rmsnorm",
    },
    {
      tier: "full" as const,
      seed: 2,
      backend: "webgpu" as const,
      steps: 10000,
      variant: "0badcafe",
    },
  ];
  for (const n of names) {
    const file = `${recordStem({ hypothesisId: "x", ...n })}.json`;
    assert.deepEqual(parseRecordFile(file), n, file);
  }
  for (
    const other of [
      "outcomes.json",
      "full-seed1-cpu-noise.scale=1e-6.json.tmp",
      "full-seed1-cpu-1e-6.json",
      "full-seed1.json",
    ]
  ) {
    assert.equal(parseRecordFile(other), null, other);
  }
});

Deno.test("recordsOf finds a point's record under its words, never a shortened run, and refuses one under another name", async () => {
  await withTempDir(async (dir) => {
    const records = `${dir}/records`;
    const point = [parseOverride("noise.scale=0.001")];
    const run = await tinyRun(dir, { overrides: point, writeHistory: false });
    assert.equal(
      run.path,
      `${records}/tiny-check/smoke-seed42-cpu-noise.scale=0.001.json`,
    );
    const label = pointLabel(point);
    const found = await recordsOf(records, "tiny-check", "smoke", 42, [label]);
    assert.deepEqual(found.map((r) => r.key), [run.record.key]);
    // Only unmodified runs asked for: the point is not read.
    assert.deepEqual(await recordsOf(records, "tiny-check", "smoke", 42), []);
    // A shortened run of the same point is no record of the tier.
    const shortened =
      `${records}/tiny-check/smoke-seed42-cpu-3steps-noise.scale=0.001.json`;
    await copyRecordFiles(run.path!, shortened);
    assert.equal(
      (await recordsOf(records, "tiny-check", "smoke", 42, [label])).length,
      1,
    );
    await removeRecordFiles(shortened);
    // The same record under its old hashed name, or another point's name,
    // is an error naming it.
    for (const wrong of ["5e1f3a2b", "noise.scale=1e-6"]) {
      const path = `${records}/tiny-check/smoke-seed42-cpu-${wrong}.json`;
      await renameRecordFiles(run.path!, path);
      await assert.rejects(
        recordsOf(records, "tiny-check", "smoke", 42, [label]),
        (e: Error) => {
          assert.ok(e instanceof RecordError);
          assert.equal(e.path, path);
          assert.match(e.message, /its overrides make it noise\.scale=0\.001/);
          return true;
        },
      );
      await renameRecordFiles(path, run.path!);
    }
  });
});

/** A committed record (read only) that the edits below break. */
const SEED3 = new URL(
  "../../reports/data/11.2b-jiggling/full-seed3-cpu.json",
  import.meta.url,
).pathname;

Deno.test("a record that contradicts itself is refused, naming the file and what contradicts", async () => {
  const record = (await readRecord(SEED3))!;
  const final = record.final!;
  assert.deepEqual(final.clusters.map((c) => c.population), [41, 10]);
  const edits: [string, Record<string, unknown>, RegExp][] = [
    ["C and P", { final: { ...final, C: 7, P: 12 } }, /final\.C is 7 but 2/],
    ["C", { final: { ...final, C: 2 + 4 } }, /final\.C is 6 but 2/],
    ["P", { final: { ...final, P: 50 } }, /final\.P is 50 but .* 51/],
    [
      "a population",
      {
        final: {
          ...final,
          clusters: [
            { ...final.clusters[0], population: 40 },
            final.clusters[1],
          ],
        },
      },
      /final\.clusters\[0\] has population 40 and 41 tokens/,
    ],
    ["the losses", { loss: record.loss.slice(1) }, /loss has \d+ entries/],
    [
      "the trajectory's end",
      {
        trajectory: {
          ...record.trajectory,
          C: [...record.trajectory.C.slice(0, -1), 3],
        },
      },
      /differ from the trajectory's last step/,
    ],
    [
      "the first escape",
      { trajectory: { ...record.trajectory, firstEscape: 1 } },
      /firstEscape is 1/,
    ],
    // A recorded step, but after the first escape (step 4): a token that
    // left the dead tokens' cluster has split them.
    [
      "the first split",
      { trajectory: { ...record.trajectory, firstSplit: 55 } },
      /firstSplit is 55, but the dead tokens were already split at the first escape \(step 4\)/,
    ],
    [
      "the config",
      { config: { ...record.config, seed: 4 } },
      /config is not the one its identity names/,
    ],
  ];
  for (const [what, edit, problem] of edits) {
    assert.throws(
      () => parseRecord(JSON.stringify({ ...record, ...edit }), "seed3.json"),
      (e: Error) => {
        assert.ok(e instanceof RecordError, what);
        assert.match(e.message, /^malformed run record seed3\.json: /, what);
        assert.match(e.message, problem, what);
        return true;
      },
    );
  }

  // report and record read through recordsOf: refused, with the command.
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/11.2b-jiggling`);
    const path = `${dir}/11.2b-jiggling/full-seed3-cpu.json`;
    await writeRecordFiles(path, {
      ...record,
      final: { ...final, C: 7, P: 12 },
    });
    await assert.rejects(
      recordsOf(dir, "11.2b-jiggling", "full", 42),
      (e: Error) => {
        assert.ok(e instanceof RecordError);
        assert.equal(e.path, path);
        assert.match(
          e.message,
          /final\.C is 7 .*; re-create it with: deno task run 11\.2b-jiggling --tier full --seed 3 --backend cpu --out \S+ --force$/,
        );
        return true;
      },
    );
  });
});

/** `path`'s JSON with `final.C` set to `C` (its digest left as it was). */
async function editFinalC(path: string, C: number) {
  const text = await Deno.readTextFile(path);
  const at = /("final": \{\s*"C": )(\d+)/;
  assert.notEqual(Number(at.exec(text)?.[2]), C);
  await Deno.writeTextFile(path, text.replace(at, `$1${C}`));
}

/** `path`'s arrays file with `loss[step]` set to `value`, re-compressed. */
async function editLoss(path: string, step: number, value: number) {
  const file = arraysPath(path);
  const arrays = decodeArrays(await Deno.readFile(file), file);
  const loss = arrays.get("loss")!;
  assert.notEqual(loss[step], value);
  loss[step] = value;
  const counts = ["trajectory.step", "trajectory.C", "trajectory.P"];
  await Deno.writeFile(
    file,
    encodeArrays([...arrays].map(([name, values]) => ({
      name,
      kind: counts.includes(name) ? "count" : "float",
      values,
    }))),
  );
}

Deno.test("an edited record file is refused by name: final.C in its JSON, one loss in its arrays file (issue 23)", async () => {
  // The committed 11.2b seed 3 record: final C = 2, two clusters listed.
  await withTempDir(async (dir) => {
    const path = `${dir}/11.2b-jiggling/full-seed3-cpu.json`;
    await copyRecordFiles(SEED3, path);
    assert.equal((await readRecord(path))!.final!.C, 2);
    const cases: [string, () => Promise<void>, RegExp][] = [
      [
        "final.C = 6 in the JSON",
        () => editFinalC(path, 6),
        /its content does not match its digest \(edited or damaged\)/,
      ],
      [
        "loss[59] = 0.5 in the arrays file",
        () => editLoss(path, 59, 0.5),
        /its arrays file full-seed3-cpu\.safetensors\.gz is not the one it was written with \(.*; edited or damaged\)/,
      ],
      [
        "the arrays file gone",
        () => Deno.remove(arraysPath(path)),
        /its arrays file full-seed3-cpu\.safetensors\.gz is missing/,
      ],
    ];
    for (const [what, edit, problem] of cases) {
      await copyRecordFiles(SEED3, path);
      await edit();
      await assert.rejects(readRecord(path), (e: Error) => {
        assert.ok(e instanceof RecordError, what);
        assert.equal(e.path, path, what);
        assert.match(e.message, problem, what);
        return true;
      });
      // report and record read through recordsOf: one line, the command.
      await assert.rejects(
        recordsOf(dir, "11.2b-jiggling", "full", 42),
        (e: Error) => {
          assert.ok(e instanceof RecordError, what);
          assert.equal(e.message.split("\n").length, 1, what);
          assert.match(e.message, problem, what);
          assert.match(
            e.message,
            /; re-create it with: deno task run 11\.2b-jiggling --tier full --seed 3 --backend cpu --out \S+ --force$/,
            what,
          );
          return true;
        },
      );
    }
  });
});

Deno.test("run: an edited cached record is a miss with a note and re-runs; an edited committed one is refused", async () => {
  await withTempDir(async (dir) => {
    const cache = { recordsDir: `${dir}/cache/records` };
    const first = await tinyRun(dir, cache);
    const committed = await tinyRun(dir);
    const C = first.record.final!.C + 1;
    const edits: [(path: string) => Promise<void>, RegExp][] = [
      [(p) => editFinalC(p, C), /its content does not match its digest/],
      [(p) => editLoss(p, 2, 0.5), /is not the one it was written with/],
    ];
    for (const [edit, problem] of edits) {
      await edit(first.path!);
      const notes: string[] = [];
      const again = await tinyRun(dir, {
        ...cache,
        onNote: (n: string) => notes.push(n),
      });
      assert.equal(again.cached, false, "re-ran");
      assert.equal(notes.length, 1, notes.join("\n"));
      assert.match(notes[0], problem);
      assert.match(notes[0], /-cpu\.json: .*; discarded, re-running$/);
      assert.deepEqual(again.record.loss, first.record.loss);
      assert.deepEqual(again.record.final, first.record.final);

      await edit(committed.path!);
      await assert.rejects(tinyRun(dir), (e: Error) => {
        assert.ok(e instanceof RecordError);
        assert.equal(e.path, committed.path);
        assert.equal(e.message.split("\n").length, 1);
        assert.match(e.message, problem);
        assert.match(
          e.message,
          /; re-create it with: deno task run tiny-check /,
        );
        return true;
      });
      await tinyRun(dir, { useCache: false });
    }
  });
});

Deno.test("a record of format 2 (arrays inline) is refused, cached or committed, with the command that converts it", async () => {
  await withTempDir(async (dir) => {
    for (const where of [{ recordsDir: `${dir}/cache/records` }, {}]) {
      const run = await tinyRun(dir, where);
      await removeRecordFiles(run.path!);
      await Deno.writeTextFile(
        run.path!,
        JSON.stringify({ ...run.record, format: 2 }) + "\n",
      );
      await assert.rejects(tinyRun(dir, where), (e: Error) => {
        assert.ok(e instanceof LegacyRecordError);
        assert.equal(
          e.message,
          `run record ${run.path} is in format 2 (arrays inline); convert it with: deno task records migrate ${run.path}`,
        );
        return true;
      });
    }
  });
});
