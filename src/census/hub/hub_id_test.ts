import assert from "node:assert/strict";
import { isCommitSha, parseHubId } from "./hub_id.ts";

Deno.test("parseHubId: org/name with and without a revision", () => {
  assert.deepEqual(parseHubId("Qwen/Qwen2.5-3B"), {
    repo: "Qwen/Qwen2.5-3B",
    revision: "main",
    explicitRevision: false,
  });
  assert.deepEqual(parseHubId("meta-llama/Llama-3.1-8B@v1.0"), {
    repo: "meta-llama/Llama-3.1-8B",
    revision: "v1.0",
    explicitRevision: true,
  });
  assert.equal(
    parseHubId("a/b@0123456789abcdef0123456789abcdef01234567")?.revision,
    "0123456789abcdef0123456789abcdef01234567",
  );
});

Deno.test("parseHubId: paths and file names are not hub ids", () => {
  for (
    const path of [
      "model.safetensors",
      "./org/name",
      "../org/name",
      "/abs/path",
      "a/b/c",
      "out/model.safetensors",
      "dir/model.gguf",
      "org/",
      "/name",
      "a/b@",
      "a/b@x y",
      "a/b@../x",
      "a--b/c",
      "a/b..c",
      ".hidden/x",
      "-x/y",
    ]
  ) assert.equal(parseHubId(path), null, path);
});

Deno.test("isCommitSha: only a full 40-hex sha", () => {
  assert.ok(isCommitSha("0123456789abcdef0123456789abcdef01234567"));
  assert.ok(!isCommitSha("main"));
  assert.ok(!isCommitSha("0123456"));
});
