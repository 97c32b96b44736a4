import assert from "node:assert/strict";
import { censusMain } from "../../cli/census.ts";
import { withUseLite } from "../../testing/use_lite_fixture.ts";

/** Runs censusMain with console.error captured. */
async function run(args: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const saved = { error: console.error, log: console.log };
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  console.log = () => {};
  try {
    return { code: await censusMain(args), err };
  } finally {
    Object.assign(console, saved);
  }
}

Deno.test("census CLI: bad --near/--cosine/--unused values are one line, exit 2", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--near", "0"], /--near must be a positive integer/],
    [["--near", "1.5"], /--near must be a positive integer/],
    [["--near", "2000000000"], /--near must be at most 2\^30/],
    [["--cosine", "1"], /--cosine must be a number between 0 and 1/],
    [["--cosine", "abc"], /--cosine must be a number between 0 and 1/],
    [["--near", "2", "--cosine", "0.9"], /alternatives/],
    [["--unused", "3,x"], /--unused takes token ids/],
    [["--unused", "9-3"], /--unused takes token ids/],
    [["--unused-pattern", "("], /--unused-pattern is not a regular expression/],
    [["--indicator-top", "0"], /--indicator-top must be a positive integer/],
    // Valid, but too loose for a trained 256-wide matrix: stops at once.
    [["--cosine", "0.5"], /too loose for this matrix/],
  ];
  await withUseLite(async (fixture) => {
    for (const [flags, message] of cases) {
      const { code, err } = await run([fixture, ...flags]);
      assert.equal(code, 2, flags.join(" "));
      assert.equal(err.length, 1, flags.join(" "));
      assert.match(err[0], /^error: /);
      assert.match(err[0], message);
    }
  });
});

Deno.test("census CLI: --json carries the near and indicator fields", async () => {
  const out: string[] = [];
  const saved = console.log;
  console.log = (s: string) => out.push(s);
  try {
    await withUseLite(async (fixture) =>
      assert.equal(
        await censusMain([
          fixture,
          "--json",
          "--near",
          "1",
          "--unused",
          "3-5",
        ]),
        0,
      )
    );
  } finally {
    console.log = saved;
  }
  const [t] = JSON.parse(out.join("\n")).tensors;
  // The exact part keeps its fields; the new parts sit beside them.
  assert.deepEqual([t.C, t.P, t.distinct], [0, 0, 8002]);
  assert.deepEqual(t.near.tolerance, { ulps: 1 });
  assert.equal(t.near.C, 0);
  assert.equal(t.indicators.knownUnused.rows, 3);
  assert.equal(t.indicators.byNorm.length, 20);
  assert.equal(t.indicators.byNorm[0].label, "�");
});
