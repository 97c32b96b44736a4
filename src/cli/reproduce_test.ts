import assert from "node:assert/strict";
import { main } from "./reproduce.ts";
import { UsageError } from "./errors.ts";
import { runHypothesis } from "../run/run.ts";
import { readRecord, recordPath } from "../history/records.ts";
import { writeRecordFiles } from "../history/record_file.ts";
import { PACK_TINY } from "../testing/pack_hypotheses.ts";
import { listDir, withTempDir } from "../testing/helpers.ts";

const MODULE = new URL("../testing/pack_hypotheses.ts", import.meta.url).href;

/** Runs `main` with the console captured. */
async function reproduce(
  args: string[],
  options: Parameters<typeof main>[1],
): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const code = await main(args, options);
    return { code, out: lines.join("\n") };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

Deno.test("reproduce renders, verifies the smoke records bit for bit and lists what is missing", async () => {
  await withTempDir(async (dir) => {
    const recordsDir = `${dir}/records`;
    // The committed smoke record of the tiny hypothesis's own seed.
    await runHypothesis(PACK_TINY, {
      tier: "smoke",
      backend: "cpu",
      recordsDir,
      cacheDir: `${dir}/cache`,
      writeHistory: false,
    });
    const file = recordPath(recordsDir, {
      hypothesisId: PACK_TINY.id,
      tier: "smoke",
      seed: PACK_TINY.config.seed,
      backend: "cpu",
    });
    const committed = await Deno.readTextFile(file);
    const rendered: string[][] = [];
    const options = {
      hypotheses: [PACK_TINY],
      recordsDir,
      hypothesesModule: MODULE,
      report: (args: string[]) => {
        rendered.push(args);
        return Promise.resolve(0);
      },
    };
    const ok = await reproduce(["--workers", "1"], options);
    assert.equal(ok.code, 0, ok.out);
    assert.deepEqual(rendered, [[]]);
    assert.match(ok.out, /pack-tiny: reproduced bit for bit \(6 steps/);
    // Its 2 seeds x 2 sweep points at the full tier are declared, not run.
    assert.match(
      ok.out,
      /pack-tiny: 4 of 4 full-tier runs \(~\d+ s on one worker\): deno task sweep pack-tiny --tier full/,
    );
    assert.match(ok.out, /deno task reproduce --full/);
    // Nothing was written beside the committed record.
    assert.equal(await Deno.readTextFile(file), committed);
    assert.deepEqual(await listDir(`${recordsDir}/pack-tiny`), [
      "smoke-seed42-cpu.json",
      "smoke-seed42-cpu.safetensors.gz",
    ]);

    // One loss changed by 2^-40 (a record written so, digests and all):
    // named, exit 1.
    const record = (await readRecord(file))!;
    const loss = [...record.loss];
    loss[3] = loss[3] + 2 ** -40;
    await writeRecordFiles(file, { ...record, loss });
    const bad = await reproduce([], options);
    assert.equal(bad.code, 1);
    assert.match(
      bad.out,
      /error: pack-tiny: does not reproduce its committed smoke record: loss at step 4: committed [0-9.]+, here [0-9.]+/,
    );
  });
});

Deno.test("reproduce: a missing smoke record is listed with its commands, not trained", async () => {
  await withTempDir(async (dir) => {
    const { code, out } = await reproduce([], {
      hypotheses: [PACK_TINY],
      recordsDir: dir,
      hypothesesModule: MODULE,
      report: () => Promise.resolve(0),
    });
    assert.equal(code, 0, out);
    assert.doesNotMatch(out, /verifying/);
    assert.match(
      out,
      /pack-tiny: its smoke run \(~\d+ s\): deno task run pack-tiny --tier smoke && deno task record pack-tiny --tier smoke/,
    );
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("reproduce: bad flags are usage errors; --help names --full", async () => {
  for (
    const [args, message] of [
      [["--bogus"], /bogus/],
      [["--tier", "smoke"], /--tier goes with --full/],
      [["--own-only"], /--own-only goes with --full/],
      [["--workers", "0"], /workers/],
      [["--tier", "smoke", "--workers", "0"], /workers/],
      [["--full", "--tier", "smoke", "--workers", "0"], /workers/],
      [["--full", "control-layernorm"], /name no ids/],
      [["--full", "--tier", "huge"], /--tier must be one of/],
      [["nope"], /unknown hypothesis "nope"/],
    ] as [string[], RegExp][]
  ) {
    await assert.rejects(
      main(args, { report: () => Promise.resolve(0) }),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      args.join(" "),
    );
  }
  const help = await reproduce(["--help"], {});
  assert.equal(help.code, 0);
  assert.match(help.out, /--full\s+compute every declared run/);
  assert.match(help.out, /never trains a full-tier run/);
});
