import assert from "node:assert/strict";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import { fileDigest } from "../io/file_digest.ts";
import { checkpointPath, fileCheckpointStore } from "../history/checkpoint.ts";
import { runHypothesisDetailed } from "./run.ts";
import type { RunOptions } from "./run_options.ts";

/** Tiny, with noise (so a resumed run must continue the noise stream). */
const TINY = tinyHypothesis("concurrent", {
  config: {
    maxSteps: 40,
    noise: { param: "transformer.wte.weight", scale: 3e-3 },
  },
  smokeSteps: 12,
  verdict: "positive",
});

const BASE = { tier: "smoke", backend: "cpu" } as const;

/** The options two runs of the same command share (one cache, one records folder). */
function sameCommand(dir: string, key: string): Partial<RunOptions> {
  return {
    recordsDir: `${dir}/records`,
    cacheDir: `${dir}/cache`,
    checkpoints: {
      store: fileCheckpointStore(checkpointPath(key, `${dir}/cache`)),
      every: 3,
    },
  };
}

Deno.test("two identical runs at once: one trains, the other waits for it and takes its record", async () => {
  await withTempDir(async (dir) => {
    const plain = await runHypothesisDetailed(TINY, {
      ...BASE,
      recordsDir: `${dir}/plain`,
      cacheDir: `${dir}/plain-cache`,
    });
    const notes: string[][] = [[], []];
    const both = await Promise.all(
      [0, 1].map((i) =>
        runHypothesisDetailed(TINY, {
          ...BASE,
          ...sameCommand(dir, plain.record.key),
          onNote: (n) => notes[i].push(n),
        })
      ),
    );
    assert.deepEqual(
      both.map((o) => o.cached).sort(),
      [false, true],
      "one trained, one answered from its record",
    );
    const waiter = both.findIndex((o) => o.cached);
    assert.equal(notes[waiter].length, 1, notes[waiter].join("\n"));
    assert.match(
      notes[waiter][0],
      new RegExp(`^waiting for the same run in process ${Deno.pid} \\(since `),
    );
    for (const o of both) {
      assert.deepEqual(o.record.loss, plain.record.loss);
      assert.deepEqual(o.record.final, plain.record.final);
    }
    assert.deepEqual(
      await fileDigest(`${dir}/cache/${both[0].record.history!.file}`),
      await fileDigest(`${dir}/plain-cache/${plain.record.history!.file}`),
    );
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/cache/locks`)],
      [],
      "no lock left behind",
    );
  });
});

Deno.test("two checkouts sharing one cache: the second run of a key takes the first's kept record instead of training", async () => {
  await withTempDir(async (dir) => {
    const cacheDir = `${dir}/cache`;
    const notes: string[] = [];
    const first = await runHypothesisDetailed(TINY, {
      ...BASE,
      recordsDir: `${dir}/checkout-a/records`,
      cacheDir,
    });
    assert.equal(first.cached, false);
    const second = await runHypothesisDetailed(TINY, {
      ...BASE,
      recordsDir: `${dir}/checkout-b/records`,
      cacheDir,
      onNote: (n) => notes.push(n),
    });
    assert.equal(second.cached, true, "not trained again");
    assert.equal(second.path, first.path!.replace("checkout-a", "checkout-b"));
    assert.match(notes.join("\n"), /kept in the cache/);
    // Its own records folder holds the record now, byte for byte the first's.
    for (
      const file of [
        second.path!,
        second.path!.replace(/json$/, "safetensors.gz"),
      ]
    ) {
      assert.deepEqual(
        await Deno.readFile(file),
        await Deno.readFile(file.replace("checkout-b", "checkout-a")),
      );
    }
    // A run that keeps no history keeps no record: nothing there to adopt.
    const withoutHistory = (checkout: string) =>
      runHypothesisDetailed(TINY, {
        ...BASE,
        seed: 7,
        recordsDir: `${dir}/${checkout}/records`,
        cacheDir,
        writeHistory: false,
      });
    assert.equal((await withoutHistory("checkout-c")).record.history, null);
    assert.equal((await withoutHistory("checkout-d")).cached, false);
  });
});

Deno.test("a kept copy that cannot be written costs the copy, not the run", async () => {
  await withTempDir(async (dir) => {
    const cacheDir = `${dir}/cache`;
    await Deno.mkdir(cacheDir, { recursive: true });
    await Deno.writeTextFile(`${cacheDir}/kept`, "a file where a folder goes");
    const notes: string[] = [];
    const run = await runHypothesisDetailed(TINY, {
      ...BASE,
      recordsDir: `${dir}/records`,
      cacheDir,
      onNote: (n) => notes.push(n),
    });
    assert.equal(run.cached, false);
    assert.ok(run.path && (await Deno.stat(run.path)).isFile);
    assert.match(
      notes.join("\n"),
      /^no copy of the record kept in the cache \(/m,
    );
  });
});

const RUN_MODULE = new URL("./run.ts", import.meta.url).href;
const HELPERS = new URL("../testing/helpers.ts", import.meta.url).href;
const CHECKPOINT = new URL("../history/checkpoint.ts", import.meta.url).href;

/**
 * Another process running the same command, slowly (a pause after each step
 * so the test can act mid-run); it prints each step it finishes.
 */
function slowRun(dir: string, key: string) {
  const code = `
    import { runHypothesisDetailed } from ${JSON.stringify(RUN_MODULE)};
    import { tinyHypothesis } from ${JSON.stringify(HELPERS)};
    import { checkpointPath, fileCheckpointStore } from ${
    JSON.stringify(CHECKPOINT)
  };
    const TINY = tinyHypothesis("concurrent", {
      config: { maxSteps: 40, noise: { param: "transformer.wte.weight", scale: 3e-3 } },
      smokeSteps: 12,
      verdict: "positive",
    });
    const dir = ${JSON.stringify(dir)};
    await runHypothesisDetailed(TINY, {
      tier: "smoke",
      backend: "cpu",
      recordsDir: dir + "/records",
      cacheDir: dir + "/cache",
      checkpoints: {
        store: fileCheckpointStore(checkpointPath(${
    JSON.stringify(key)
  }, dir + "/cache")),
        every: 3,
      },
      onStep: async ({ step }) => {
        console.log("step " + step);
        await new Promise((r) => setTimeout(r, 400));
      },
    });
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** Resolves once `child` printed "step N" with N >= `step`. */
async function reached(child: Deno.ChildProcess, step: number): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the other run ended first: ${said}`);
    said += value;
    const steps = [...said.matchAll(/step (\d+)/g)].map((m) => Number(m[1]));
    if (steps.some((s) => s >= step)) break;
  }
  // Keep draining, so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
}

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  Deno.test(`the run waiting for another process goes on when that one is killed (${signal}): it resumes its checkpoint`, async () => {
    await withTempDir(async (dir) => {
      const plain = await runHypothesisDetailed(TINY, {
        ...BASE,
        recordsDir: `${dir}/plain`,
        cacheDir: `${dir}/plain-cache`,
      });
      const key = plain.record.key;
      const other = slowRun(dir, key);
      try {
        await reached(other, 4); // its checkpoint at step 3 is saved
        const notes: string[] = [];
        let firstStep = 0;
        const mine = runHypothesisDetailed(TINY, {
          ...BASE,
          ...sameCommand(dir, key),
          onNote: (n) => {
            notes.push(n);
            // Waiting: now the other process dies.
            if (n.startsWith("waiting")) other.kill(signal);
          },
          onStep: ({ step }) => {
            firstStep ||= step;
          },
        });
        const outcome = await mine;
        assert.match(
          notes.join("\n"),
          /^waiting for the same run in process \d+ \(since .*\)\nresuming from the checkpoint at step (3|6)$/,
        );
        assert.ok(firstStep >= 4, `resumed, not from step 0 (${firstStep})`);
        assert.equal(outcome.cached, false);
        assert.deepEqual(outcome.record.loss, plain.record.loss);
        assert.deepEqual(outcome.record.trajectory, plain.record.trajectory);
        assert.deepEqual(
          await fileDigest(`${dir}/cache/${outcome.record.history!.file}`),
          await fileDigest(`${dir}/plain-cache/${plain.record.history!.file}`),
        );
      } finally {
        try {
          other.kill("SIGKILL");
        } catch {
          // already ended
        }
        await other.status;
      }
    });
  });
}
