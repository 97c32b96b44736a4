import assert from "node:assert/strict";
import { censusBenchMain, runCensusBench } from "./census.ts";
import { formatCensusBench, formatHubCensusBench } from "./census_format.ts";
import { runHubCensusBench } from "./census_hub.ts";

Deno.test("runCensusBench() finds exactly the planted clusters of a small matrix", async () => {
  const r = await runCensusBench({
    rows: 8192,
    cols: 64,
    repeat: 2,
    cold: false,
  });
  assert.equal(r.correct, true);
  assert.deepEqual(r.planted, { C: 60, P: 2_152 });
  assert.deepEqual(r.found, r.planted);
  assert.equal(r.bytes, 8192 * 64 * 2);
  assert.equal(r.censusRuns.length, 2);
  assert.equal(r.reads.length, 5);
  // The baseline is the fastest read, and the ratio is against it.
  assert.equal(r.readSeconds, Math.min(...r.reads.map((v) => v.seconds)));
  assert.equal(r.ratio, r.censusSeconds / r.readSeconds);
  assert.equal(r.cold, null);
  assert.equal(r.format, "safetensors");
  const text = formatCensusBench(r);
  assert.match(text, /in a safetensors file,/);
  assert.match(text, /found C=60 P=2,152: matches the planted clusters/);
});

Deno.test("censusBenchMain() rejects bad arguments with exit code 2", async () => {
  const errors: string[] = [];
  const error = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    assert.equal(await censusBenchMain(["--rows", "100"]), 2);
    assert.equal(await censusBenchMain(["--cols", "7"]), 2);
    assert.equal(await censusBenchMain(["--repeat", "1e1"]), 2);
    assert.equal(await censusBenchMain(["--nope"]), 2);
  } finally {
    console.error = error;
  }
  assert.deepEqual(errors.slice(0, 3), [
    'error: --rows must be an integer >= 8192, got "100"',
    "error: --cols must be even, got 7",
    'error: --repeat must be an integer >= 1, got "1e1"',
  ]);
  assert.match(errors[3], /^error: .*--nope.*valid options: --json/);
});

Deno.test("runCensusBench({ format: 'gguf' }) finds the planted clusters in a GGUF file", async () => {
  const r = await runCensusBench({
    rows: 8192,
    cols: 64,
    repeat: 1,
    cold: false,
    format: "gguf",
  });
  assert.equal(r.correct, true);
  assert.deepEqual(r.found, { C: 60, P: 2_152 });
  assert.equal(r.bytes, 8192 * 64 * 2);
  assert.equal(r.format, "gguf");
  assert.match(formatCensusBench(r), /\(1\.0 MB\) in a GGUF file,/);
});

Deno.test("runHubCensusBench() fetches the headers, embedding, tokenizer and index, not the repo, then nothing", async () => {
  const r = await runHubCensusBench({ rows: 8192, cols: 64, repeat: 1 });
  assert.equal(r.correct, true);
  assert.deepEqual(r.found, { C: 60, P: 2_152 });
  const embedding = 8192 * 64 * 2;
  assert.equal(r.needed.embedding, embedding);
  assert.ok(r.needed.headers < 1_000, `${r.needed.headers} header bytes`);
  // Exactly the needed bytes, counted by the server: the two layer tensors,
  // each as large as the embedding, stay put.
  assert.equal(r.cold.fileBytes, r.needed.total);
  assert.equal(
    r.needed.total,
    r.needed.headers + embedding + r.needed.tokenizer + r.needed.index,
  );
  assert.ok(r.repoBytes > 3 * embedding, `${r.repoBytes} bytes in the repo`);
  assert.equal(r.fraction, r.cold.fileBytes / r.repoBytes);
  assert.ok(r.fraction < 0.4, `${r.fraction}`);
  // Warm: the cache answers; only the listing is asked again.
  assert.equal(r.warm.fileBytes, 0);
  assert.equal(r.warm.requests, 1);
  assert.equal(r.exact, true);
  const text = formatHubCensusBench(r);
  assert.match(text, /^census bench, hub path: /);
  assert.match(text, /found C=60 P=2,152: matches the planted clusters/);
});

Deno.test("censusBenchMain() rejects --hub with --gguf or --warm-only (exit 2)", async () => {
  const errors: string[] = [];
  const error = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    assert.equal(await censusBenchMain(["--hub", "--gguf"]), 2);
    assert.equal(await censusBenchMain(["--hub", "--warm-only"]), 2);
  } finally {
    console.error = error;
  }
  assert.deepEqual(errors, [
    "error: --hub and --gguf cannot be combined",
    "error: --warm-only does not apply to --hub (its cold run is an empty cache)",
  ]);
});
