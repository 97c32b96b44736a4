import assert from "node:assert/strict";
import { encodeSafetensors } from "../../io/safetensors/mod.ts";
import { withTempDir } from "../../testing/helpers.ts";
import { startTestHubServer } from "./test_hub_server.ts";

const CLI = new URL("../../cli/census.ts", import.meta.url).pathname;
const REPO = "test-org/cli-model";

/** A 6 x 2 F32 embedding whose rows 1, 4 and 5 are one vector. */
const FILES = {
  "model.safetensors": encodeSafetensors({
    "model.embed_tokens.weight": {
      dtype: "F32",
      shape: [6, 2],
      data: new Float32Array([0, 1, 9, 9, 2, 3, 4, 5, 9, 9, 9, 9]),
    },
  }),
};

/** `deno task census` as a user runs it, from `cwd`, with `env` added. */
async function census(
  args: string[],
  cwd: string,
  env: Record<string, string>,
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("census CLI: a hub id reads HF_ENDPOINT, shows bytes on stderr; 404 is exit 2, no network exit 1", async () => {
  const hub = await startTestHubServer(REPO, FILES);
  try {
    await withTempDir(async (dir) => {
      const env = {
        HF_ENDPOINT: hub.endpoint,
        HORIZON_CACHE_DIR: dir,
        HF_TOKEN: "hf_secret_value",
      };
      const ok = await census([REPO, "--json"], dir, env);
      assert.equal(ok.code, 0, ok.stderr);
      const report = JSON.parse(ok.stdout);
      assert.deepEqual(report.tensors[0].clusters, [
        { population: 3, tokens: [1, 4, 5] },
      ]);
      assert.match(
        ok.stderr,
        /hub: model\.embed_tokens\.weight 48 B \/ 48 B \(100%\)/,
      );
      assert.match(ok.stderr, /hub: \d+(\.\d)? (B|KiB) fetched in 4 requests/);
      assert.ok(!ok.stderr.includes("hf_secret_value"));

      const again = await census([REPO], dir, env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /fetched in 1 request\n/); // the listing only

      const missing = await census(["test-org/none"], dir, env);
      assert.equal(missing.code, 2);
      assert.match(
        missing.stderr,
        /^error: no model repo test-org\/none .*HTTP 404\)\n$/,
      );

      const offline = await census([REPO], dir, {
        ...env,
        HF_ENDPOINT: "http://127.0.0.1:1",
      });
      assert.equal(offline.code, 1);
      assert.match(
        offline.stderr,
        /^error: cannot reach http:\/\/127\.0\.0\.1:1 .*\n$/,
      );
    });
  } finally {
    await hub.close();
  }
});
