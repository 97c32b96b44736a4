import assert from "node:assert/strict";
import { listDir, withTempDir } from "../testing/helpers.ts";

const RUN = new URL("./run.ts", import.meta.url).pathname;

async function run(cache: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", RUN, ...args],
    env: { HORIZON_CACHE_DIR: cache, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    text: dec.decode(out.stdout) + dec.decode(out.stderr),
  };
}

Deno.test("run --trace of a recorded run exports a trace (it retrains, as --force), never a silent cache answer", async () => {
  await withTempDir(async (dir) => {
    const cache = `${dir}/cache`;
    const args = [
      "control-layernorm",
      "--steps",
      "2",
      "--backend",
      "cpu",
      "--out",
      `${dir}/records`,
    ];
    const first = await run(cache, args);
    assert.equal(first.code, 0, first.text);
    const again = await run(cache, [...args, "--trace"]);
    assert.equal(again.code, 0, again.text);
    assert.doesNotMatch(again.text, /cached/);
    const traces = await listDir(`${cache}/traces`).catch(() => []);
    assert.ok(traces.length > 0, `no trace exported:\n${again.text}`);
  });
});
