import assert from "node:assert/strict";
import { dirname } from "node:path";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import {
  type CheckpointStore,
  fileCheckpointStore,
} from "../history/checkpoint.ts";
import { NoSpaceError } from "../io/free_space.ts";
import { prepareRun } from "./prepare.ts";
import { runHypothesisDetailed } from "./run.ts";
import { runSpaceNeeds } from "./space_needs.ts";

/** Tiny, with noise (so a trace holds a noise file too). */
const TINY = tinyHypothesis("space", {
  config: {
    maxSteps: 40,
    noise: { param: "transformer.wte.weight", scale: 3e-3 },
  },
  smokeSteps: 12,
});

const BASE = { tier: "smoke", backend: "cpu" } as const;

/** Bytes of every file under `dir` (0 when it does not exist). */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      total += e.isDirectory
        ? await bytesUnder(path)
        : (await Deno.stat(path)).size;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return total;
}

Deno.test("runSpaceNeeds covers what a run writes: history, checkpoints, record, trace", async () => {
  await withTempDir(async (dir) => {
    // The largest checkpoint saved, times two (an atomic replace holds the
    // old one and the new one at once).
    let checkpointPeak = 0;
    const file = fileCheckpointStore(`${dir}/ckpt/run.ckpt`);
    const store: CheckpointStore = {
      ...file,
      async save(bytes) {
        checkpointPeak = Math.max(checkpointPeak, 2 * bytes.length);
        await file.save(bytes);
      },
    };
    const options = {
      ...BASE,
      recordsDir: `${dir}/records`,
      cacheDir: `${dir}/cache`,
      checkpoints: { store, every: 3 },
    };
    const prepared = await prepareRun(TINY, options);
    const [history, checkpoint, record] = runSpaceNeeds(prepared, {
      historyDir: `${dir}/cache/history`,
      historyWritten: 0,
      every: 1,
      checkpointDir: `${dir}/ckpt`,
      recordDir: dirname(prepared.recordFile),
      traceDir: null,
    });
    await runHypothesisDetailed(TINY, options);
    const written = {
      history: await bytesUnder(`${dir}/cache/history`),
      record: await bytesUnder(`${dir}/records`),
    };
    assert.ok(checkpointPeak > 0);
    for (
      const [what, need, actual] of [
        ["history", history.bytes, written.history],
        ["checkpoint", checkpoint.bytes, checkpointPeak],
        ["record", record.bytes, written.record],
      ] as const
    ) {
      assert.ok(need >= actual, `${what}: estimated ${need}, wrote ${actual}`);
      assert.ok(
        need <= 2 * actual + 256 * 1024,
        `${what}: estimated ${need} for ${actual}: too far off to be useful`,
      );
    }
    const traced = { ...BASE, recordsDir: `${dir}/t`, cacheDir: `${dir}/tc` };
    const [, trace] = runSpaceNeeds(await prepareRun(TINY, traced), {
      historyDir: `${dir}/tc/history`,
      historyWritten: 0,
      every: 1,
      checkpointDir: null,
      recordDir: null,
      traceDir: `${dir}/tc/traces`,
    });
    await runHypothesisDetailed(TINY, { ...traced, trace: true });
    const traceBytes = await bytesUnder(`${dir}/tc/traces`);
    assert.ok(
      trace.bytes >= traceBytes,
      `trace ${trace.bytes} < ${traceBytes}`,
    );
  });
});

Deno.test("a run whose outputs would not fit is refused before it trains, and writes nothing", async () => {
  await withTempDir(async (dir) => {
    let steps = 0;
    await assert.rejects(
      runHypothesisDetailed(TINY, {
        ...BASE,
        recordsDir: `${dir}/records`,
        cacheDir: `${dir}/cache`,
        onStep: () => void steps++,
        freeSpace: async (at) => ({
          device: (await Deno.stat(at)).dev,
          free: 100_000,
        }),
      }),
      (e: unknown) =>
        e instanceof NoSpaceError &&
        /^needs ~0\.\d MB under \S+\/cache\/history and \S+\/records\/space, 0\.1 MB free$/
          .test(e.message),
    );
    assert.equal(steps, 0, "nothing trained");
    assert.equal(await bytesUnder(`${dir}/cache/history`), 0);
    assert.equal(await bytesUnder(`${dir}/records`), 0);
  });
});
