// `deno task rekey --rename` moves committed science records, so each of its
// refusals is checked on a tiny hypothesis: records under their pre-issue-18
// hashed names move to their names in words with their bytes untouched, and
// a stale key, a taken name or a record that contradicts its name moves
// nothing.

import assert from "node:assert/strict";
import {
  listDir,
  tinyHypothesis,
  withTempDir,
} from "../../src/testing/helpers.ts";
import { runHypothesisDetailed } from "../../src/run/run.ts";
import { parseOverride } from "../../src/hypothesis/overrides.ts";
import { sha256Json } from "../../src/step/config.ts";
import { renameRecords } from "./rename.ts";
import {
  arraysPath,
  copyRecordFiles,
  readRecordObject,
  renameRecordFiles,
  writeRecordFiles,
} from "../../src/history/record_file.ts";
import type { RunRecord } from "../../src/hypothesis/types.ts";

const H = tinyHypothesis("rename-tiny", {
  config: {
    maxSteps: 12,
    noise: { param: "transformer.wte.weight", scale: 3e-3 },
  },
  smokeSteps: 4,
});

/**
 * Writes an unmodified smoke record, a sweep point's full record and a
 * shortened (`--steps`) run of that point, the last two under the hashed
 * names they had before issue 18; returns the file names by role.
 */
async function recordOldNames(dir: string) {
  const point = [parseOverride("noise.scale=0.01")];
  const runs = [
    { tier: "smoke" as const, overrides: [] },
    { tier: "full" as const, overrides: point },
    { tier: "full" as const, overrides: point, steps: 6 },
  ];
  const files: string[] = [];
  let corpus = "";
  for (const r of runs) {
    const out = await runHypothesisDetailed(H, {
      ...r,
      backend: "cpu",
      recordsDir: dir,
      cacheDir: `${dir}/cache`,
      writeHistory: false,
    });
    files.push(out.path!.slice(`${dir}/${H.id}/`.length));
    corpus = out.record.corpus.sha256;
  }
  // The name prepareRun gave a variant before issue 18.
  const hash = (await sha256Json({ overrides: ["noise.scale=0.01"], corpus }))
    .slice(0, 8);
  const old = [
    files[0],
    `full-seed42-cpu-${hash}.json`,
    `full-seed42-cpu-6steps-${hash}.json`,
  ];
  for (const i of [1, 2]) {
    await renameRecordFiles(
      `${dir}/${H.id}/${files[i]}`,
      `${dir}/${H.id}/${old[i]}`,
    );
  }
  return { now: files, old };
}

/** Every file of the hypothesis's folder (records and arrays files), by name. */
async function texts(dir: string): Promise<Map<string, Uint8Array>> {
  const all = new Map<string, Uint8Array>();
  for (const f of await listDir(`${dir}/${H.id}`)) {
    all.set(f, await Deno.readFile(`${dir}/${H.id}/${f}`));
  }
  return all;
}

/** Record file names with their arrays files' names. */
const withArrays = (names: readonly string[]) =>
  names.flatMap((n) => [n, arraysPath(n)]);

Deno.test("rename: hashed sweep records move to their names in words, bytes untouched", async () => {
  await withTempDir(async (dir) => {
    const { now, old } = await recordOldNames(dir);
    assert.deepEqual(now, [
      "smoke-seed42-cpu.json",
      "full-seed42-cpu-noise.scale=0.01.json",
      "full-seed42-cpu-6steps-noise.scale=0.01.json",
    ]);
    const before = await texts(dir);
    const renames = await renameRecords(dir, H);
    const at = (f: string) => `${dir}/${H.id}/${f}`;
    // In the order of the old names.
    assert.deepEqual(renames, [
      { from: at(old[2]), to: at(now[2]) },
      { from: at(old[1]), to: at(now[1]) },
    ]);
    const after = await texts(dir);
    assert.deepEqual([...after.keys()].sort(), withArrays(now).sort());
    for (const i of [0, 1, 2]) {
      assert.deepEqual(after.get(now[i]), before.get(old[i]), now[i]);
      assert.deepEqual(
        after.get(arraysPath(now[i])),
        before.get(arraysPath(old[i])),
        now[i],
      );
    }
    assert.deepEqual(await renameRecords(dir, H), [], "nothing left to do");
  });
});

Deno.test("rename: a stale key, a taken name or a record that contradicts its name moves nothing", async () => {
  await withTempDir(async (dir) => {
    const { now, old } = await recordOldNames(dir);
    const at = (f: string) => `${dir}/${H.id}/${f}`;
    const before = await texts(dir);
    const refusals: [string, () => Promise<void>, RegExp][] = [
      [
        "stale key",
        async () => {
          const r = (await readRecordObject(at(old[2])))!;
          r.key = "0".repeat(64);
          await writeRecordFiles(at(old[2]), r as unknown as RunRecord);
        },
        /run key is not the one its run has today/,
      ],
      [
        "taken name",
        () => copyRecordFiles(at(old[1]), at(now[1])),
        /already exists; not renaming/,
      ],
      [
        "another seed than its name",
        async () => {
          await renameRecordFiles(
            at(old[1]),
            at(old[1].replace("seed42", "seed7")),
          );
        },
        /its fields do not match its file name/,
      ],
    ];
    for (const [what, spoil, error] of refusals) {
      await spoil();
      const spoilt = await texts(dir);
      await assert.rejects(renameRecords(dir, H), error, what);
      assert.deepEqual(await texts(dir), spoilt, `${what}: nothing moved`);
      for (const f of await listDir(`${dir}/${H.id}`)) {
        await Deno.remove(at(f));
      }
      for (const [f, bytes] of before) await Deno.writeFile(at(f), bytes);
    }
  });
});
