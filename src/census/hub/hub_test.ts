import assert from "node:assert/strict";
import { runCensus } from "../census.ts";
import type { CensusReport } from "../census.ts";
import { encodeSafetensors } from "../../io/safetensors/mod.ts";
import { withTempDir } from "../../testing/helpers.ts";
import { HubError, type HubErrorCode } from "./hub_error.ts";
import { startTestHubServer, type TestHubServer } from "./test_hub_server.ts";
import type { HubOptions } from "./weights.ts";

const REPO = "test-org/tiny-model";
const VOCAB = 48;
const WIDTH = 16;
const LAYER = 256; // two 256 x 256 F32 layers: 512 KiB the census must not fetch

const EMBED_CLUSTERS = [[5, 6, 7, 40], [10, 11]];
const HEAD_CLUSTERS = [[0, 1, 2]];

/** A [VOCAB, WIDTH] matrix of distinct rows, except `clusters` (each one vector). */
function planted(seed: number, clusters: number[][]): Float32Array {
  const m = new Float32Array(VOCAB * WIDTH);
  for (let r = 0; r < VOCAB; r++) {
    for (let c = 0; c < WIDTH; c++) m[r * WIDTH + c] = seed + r + c / 100;
  }
  clusters.forEach((rows, k) => {
    for (const r of rows) m.fill(-1 - k - seed, r * WIDTH, (r + 1) * WIDTH);
  });
  return m;
}

const SHARD1 = "model-00001-of-00002.safetensors";
const SHARD2 = "model-00002-of-00002.safetensors";

/** A sharded model with planted clusters, as a hub repo's files. */
function modelFiles(): Record<string, Uint8Array> {
  const layer = (seed: number) => ({
    dtype: "F32" as const,
    shape: [LAYER, LAYER],
    data: new Float32Array(LAYER * LAYER).fill(seed),
  });
  const emb = (data: Float32Array) => ({
    dtype: "F32" as const,
    shape: [VOCAB, WIDTH],
    data,
  });
  const enc = new TextEncoder();
  const vocab = Object.fromEntries(
    Array.from({ length: VOCAB }, (_, i) => [`t${i}`, i]),
  );
  return {
    [SHARD1]: encodeSafetensors({
      "model.embed_tokens.weight": emb(planted(0, EMBED_CLUSTERS)),
      "model.layers.0.mlp.weight": layer(1),
    }),
    [SHARD2]: encodeSafetensors({
      "model.layers.1.mlp.weight": layer(2),
      "lm_head.weight": emb(planted(100, HEAD_CLUSTERS)),
      "model.norm.weight": {
        dtype: "F32",
        shape: [WIDTH],
        data: new Float32Array(WIDTH),
      },
    }),
    "model.safetensors.index.json": enc.encode(JSON.stringify({
      metadata: {},
      weight_map: {
        "model.embed_tokens.weight": SHARD1,
        "model.layers.0.mlp.weight": SHARD1,
        "model.layers.1.mlp.weight": SHARD2,
        "lm_head.weight": SHARD2,
        "model.norm.weight": SHARD2,
      },
    })),
    "tokenizer.json": enc.encode(JSON.stringify({ model: { vocab } })),
    "config.json": enc.encode("{}"),
  };
}

const FILES = modelFiles();

/** Bytes the census needs: shard headers, embedding, head, tokenizer, index. */
function neededBytes(): number {
  let n = 0;
  for (const shard of [SHARD1, SHARD2]) {
    const b = FILES[shard];
    n += 8 + Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  }
  return n + 2 * VOCAB * WIDTH * 4 + FILES["tokenizer.json"].length +
    FILES["model.safetensors.index.json"].length;
}

async function withHub(
  fn: (hub: TestHubServer, cacheDir: string) => Promise<void>,
  files: Record<string, Uint8Array> = FILES,
): Promise<void> {
  const hub = await startTestHubServer(REPO, files);
  try {
    await withTempDir((cacheDir) => fn(hub, cacheDir));
  } finally {
    await hub.close();
  }
}

function clusters(report: CensusReport, i: number): number[][] {
  return report.tensors[i].clusters.map((c) => c.tokens);
}

/** The report without timings, to compare two runs. */
function timeless(report: CensusReport) {
  return {
    ...report,
    seconds: 0,
    tensors: report.tensors.map((t) => ({ ...t, seconds: 0 })),
  };
}

/** Every file under `dir` and its inode. */
async function cacheInodes(dir: string): Promise<Map<string, number | null>> {
  const inodes = new Map<string, number | null>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else inodes.set(p, (await Deno.stat(p)).ino);
    }
  };
  await walk(dir);
  return inodes;
}

Deno.test("hub census: planted clusters exact, only headers + embedding + head + tokenizer fetched, then none", async () => {
  await withHub(async (hub, cacheDir) => {
    const costs: { fetchedBytes: number; requests: number }[] = [];
    const progress: number[] = [];
    const hubOptions: HubOptions = {
      endpoint: hub.endpoint,
      cacheDir,
      chunkBytes: 1000, // several range requests per tensor
      idleTimeoutMs: 5000,
      onDone: (c) => costs.push(c),
      onProgress: (p) => progress.push(p.done),
    };
    const first = await runCensus(REPO, { hub: hubOptions });
    assert.equal(first.tying.status, "untied");
    assert.deepEqual(first.tensors.map((t) => t.name), [
      "model.embed_tokens.weight",
      "lm_head.weight",
    ]);
    assert.deepEqual(clusters(first, 0), EMBED_CLUSTERS);
    assert.deepEqual(clusters(first, 1), HEAD_CLUSTERS);
    assert.deepEqual([first.tensors[0].C, first.tensors[0].P], [2, 6]);
    assert.deepEqual(first.tensors[0].clusters[1].labels, ["t10", "t11"]);
    assert.equal(first.tokenizer?.tokens, VOCAB);
    assert.equal(
      first.files[0],
      `${hub.endpoint}/${REPO}/resolve/${hub.sha}/${SHARD1}`,
    );
    // Exactly the bytes the census needs: the 512 KiB of layers stay put.
    assert.equal(hub.stats.fileBytes, neededBytes());
    assert.ok(neededBytes() < 20_000, `${neededBytes()}`);
    assert.equal(
      costs[0].fetchedBytes,
      hub.stats.fileBytes + hub.stats.apiBytes,
    );
    assert.ok(!hub.stats.log.some((l) => /Range: bytes=0-\d{6,}/.test(l)));
    assert.equal(progress.at(-1), VOCAB * WIDTH * 4);
    assert.ok(progress.length >= 8, `${progress.length} progress calls`);

    // Second run, same revision: one listing request, no file bytes, and
    // no cache file written again (a rewrite renames a new inode in).
    hub.reset();
    const cachedBefore = await cacheInodes(cacheDir);
    const second = await runCensus(REPO, { hub: hubOptions });
    assert.deepEqual(timeless(second), timeless(first));
    assert.deepEqual(await cacheInodes(cacheDir), cachedBefore);
    assert.equal(hub.stats.fileBytes, 0);
    assert.equal(hub.stats.requests, 1, hub.stats.log.join("\n"));
    assert.equal(costs[1].fetchedBytes, hub.stats.apiBytes);

    // At a commit sha nothing is asked at all.
    await runCensus(`${REPO}@${hub.sha}`, { hub: hubOptions });
    hub.reset();
    const third = await runCensus(`${REPO}@${hub.sha}`, { hub: hubOptions });
    assert.equal(hub.stats.requests, 0, hub.stats.log.join("\n"));
    assert.equal(costs.at(-1)?.fetchedBytes, 0);
    assert.deepEqual(clusters(third, 0), EMBED_CLUSTERS);
  });
});

/** Runs a census of `id` and expects a HubError with `code` and `pattern`. */
async function assertHubFails(
  id: string,
  hubOptions: HubOptions,
  code: HubErrorCode,
  pattern: RegExp,
): Promise<HubError> {
  let caught: HubError | undefined;
  await assert.rejects(
    runCensus(id, { hub: { idleTimeoutMs: 5000, ...hubOptions } }),
    (e: unknown) => {
      assert.ok(e instanceof HubError, `expected HubError, got ${e}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), "one line");
      caught = e;
      return true;
    },
  );
  return caught!;
}

Deno.test("hub census: a gated repo needs HF_TOKEN (401, 403), never printed", async () => {
  await withHub(async (hub, cacheDir) => {
    hub.faults.gatedToken = "hf_right";
    const at = { endpoint: hub.endpoint, cacheDir };
    const no = await assertHubFails(
      REPO,
      at,
      "unauthorized",
      /HTTP 401.*set HF_TOKEN/,
    );
    assert.equal(no.exitCode, 2);
    const wrong = await assertHubFails(
      REPO,
      { ...at, token: "hf_wrong" },
      "unauthorized",
      /HTTP 403.*HF_TOKEN was refused/,
    );
    assert.ok(!wrong.message.includes("hf_wrong"));
    const report = await runCensus(REPO, { hub: { ...at, token: "hf_right" } });
    assert.deepEqual(clusters(report, 0), EMBED_CLUSTERS);
  });
});

Deno.test("hub census: 404 for a missing repo or revision", async () => {
  await withHub(async (hub, cacheDir) => {
    const at = { endpoint: hub.endpoint, cacheDir };
    const repo = await assertHubFails(
      "test-org/nothing",
      at,
      "not-found",
      /no model repo test-org\/nothing .*HTTP 404/,
    );
    assert.equal(repo.exitCode, 2);
    await assertHubFails(
      `${REPO}@v9`,
      at,
      "not-found",
      /no revision "v9" in test-org\/tiny-model/,
    );
  });
});

Deno.test("hub census: a server without range support is refused, the file not downloaded", async () => {
  await withHub(async (hub, cacheDir) => {
    hub.faults.noRange = true;
    let fetched = -1;
    const e = await assertHubFails(
      REPO,
      {
        endpoint: hub.endpoint,
        cacheDir,
        onDone: (c) => fetched = c.fetchedBytes,
      },
      "no-range",
      /does not support range requests \(HTTP 200 with the whole file\); refusing/,
    );
    assert.equal(e.exitCode, 1);
    // The listing, index and tokenizer (whole-file GETs), no shard byte.
    assert.equal(
      fetched,
      hub.stats.apiBytes + FILES["tokenizer.json"].length +
        FILES["model.safetensors.index.json"].length,
    );
  });
});

Deno.test("hub census: a truncated file is named: in its header, in its size, past its header", async () => {
  await withHub(async (hub, cacheDir) => {
    const at = { endpoint: hub.endpoint, cacheDir };
    hub.faults.truncate = { file: SHARD2, bytes: 100 };
    await assertHubFails(
      REPO,
      at,
      "truncated",
      new RegExp(
        `${SHARD2}: its header describes a file of \\d+ bytes but the server holds \\d+`,
      ),
    );
    // SHARD1's header was read and cached above; its data is asked for
    // now, and the size the server gives no longer matches.
    hub.faults.truncate = { file: SHARD1, bytes: 100 };
    await assertHubFails(
      REPO,
      at,
      "changed",
      /changed while being read: its size went from \d+ to \d+ bytes/,
    );
    // Cut inside the header, with nothing cached.
    hub.faults.truncate = { file: SHARD1, bytes: FILES[SHARD1].length - 20 };
    await assertHubFails(
      REPO,
      { ...at, cacheDir: `${cacheDir}/fresh` },
      "truncated",
      /header length \d+ exceeds the 12 bytes/,
    );
  });
});

Deno.test("hub census: a file whose ETag changes between requests is refused", async () => {
  await withHub(async (hub, cacheDir) => {
    hub.faults.changingEtag = true;
    const e = await assertHubFails(
      REPO,
      { endpoint: hub.endpoint, cacheDir },
      "changed",
      /changed while being read: its ETag went from "v\d+" to "v\d+"/,
    );
    assert.equal(e.exitCode, 1);
  });
});

Deno.test("hub census: no network is one line", async () => {
  const hub = await startTestHubServer(REPO, FILES);
  const endpoint = hub.endpoint;
  await hub.close(); // nothing listens there now
  await withTempDir(async (cacheDir) => {
    const e = await assertHubFails(
      REPO,
      { endpoint, cacheDir },
      "network",
      /cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*\); check the network, or HF_ENDPOINT/,
    );
    assert.equal(e.exitCode, 1);
  });
});

Deno.test("hub census: a repo without safetensors weights is named", async () => {
  const files = {
    "pytorch_model.bin": new Uint8Array(10),
    "config.json": new Uint8Array(2),
  };
  await withHub(async (hub, cacheDir) => {
    await assertHubFails(
      REPO,
      { endpoint: hub.endpoint, cacheDir },
      "no-weights",
      /holds no \.safetensors weights \(files: pytorch_model\.bin, config\.json\)/,
    );
  }, files);
});
