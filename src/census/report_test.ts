import assert from "node:assert/strict";
import type { CensusReport } from "./census.ts";
import { CensusError } from "./census_error.ts";
import { censusMarkdown, censusText, writeTextFileAtomic } from "./report.ts";

/** A hand-made report: one tied BF16 embedding with two clusters. */
function report(): CensusReport {
  return {
    path: "/models/tiny",
    files: ["/models/tiny/model.safetensors"],
    index: null,
    tokenizer: { path: "/models/tiny/tokenizer.json", tokens: 6 },
    tying: { status: "tied", detail: "no lm_head.weight is stored" },
    tensors: [{
      name: "model.embed_tokens.weight",
      role: "embedding+unembedding",
      file: "/models/tiny/model.safetensors",
      dtype: "BF16",
      shape: [10, 4],
      distinct: 7,
      C: 2,
      P: 5,
      clusters: [
        {
          population: 3,
          tokens: [1, 4, 9],
          labels: ["a|b", "x".repeat(40), null],
        },
        { population: 2, tokens: [2, 3], labels: ["\n", "`q`"] },
      ],
      seconds: 0.5,
    }],
    notes: ["something to know"],
    seconds: 1.25,
  };
}

Deno.test("censusText() summarises tensors, clusters and token strings", () => {
  const text = censusText(report(), { top: 1, tokensPerCluster: 2 });
  assert.match(text, /^census of \/models\/tiny$/m);
  assert.match(text, /output head: tied: no lm_head\.weight is stored/);
  assert.match(text, /note: something to know/);
  assert.match(text, /C = 2 clusters, P = 5 rows; 7 distinct rows of 10/);
  assert.match(text, /largest clusters \(1 of 2\):/);
  // Two tokens shown, the rest counted; long strings cut at 32 characters.
  assert.match(
    text,
    new RegExp(
      `3 rows: 1 "a\\|b", 4 "${"x".repeat(32)}"…, \\.\\.\\. \\(\\+1\\)`,
    ),
  );
  assert.ok(!text.includes('"\\n"'), "--top 1 hides the second cluster");
});

Deno.test("censusMarkdown() writes the summary table, cluster tables and provenance", () => {
  const md = censusMarkdown(report(), {
    command: "deno task census /models/tiny",
    date: new Date("2025-01-02T03:04:05Z"),
  });
  assert.match(md, /^# Census: `tiny`$/m);
  assert.match(
    md,
    /^\| Output head \| \*\*tied\*\*: no lm_head\.weight is stored \|$/m,
  );
  assert.match(
    md,
    /^\| `model\.embed_tokens\.weight` \| embedding and output head \| 10 x 4 \| BF16 \| 2 \| 5 \| 7 \| 3, 2 \|$/m,
  );
  assert.match(
    md,
    /^5 of 10 rows \(50\.00%\) sit in 2 clusters\. All clusters, largest first:$/m,
  );
  // Pipes escaped in table cells, backticks fenced, ids without a string marked.
  assert.match(md, /^\| 1 \| 3 \| `1 "a\\\|b"`, .*, `9 \(no token\)` \|$/m);
  assert.match(md, /^\| 2 \| 2 \| `2 "\\n"`, `` 3 "`q`" `` \|$/m);
  assert.match(md, /^\| Command \| `deno task census \/models\/tiny` \|$/m);
  assert.match(md, /^\| Date \| 2025-01-02T03:04:05\.000Z \|$/m);
  assert.match(md, /^- something to know$/m);
});

Deno.test("censusMarkdown() says so when there are no black holes", () => {
  const r = report();
  r.tensors[0] = { ...r.tensors[0], C: 0, P: 0, distinct: 10, clusters: [] };
  const md = censusMarkdown(r);
  assert.match(md, /All 10 rows are distinct: no black holes\./);
  assert.match(md, /\| 0 \| 0 \| 10 \| none \|/);
});

Deno.test("writeTextFileAtomic() replaces the file and leaves no temporary files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "horizon_report_" });
  try {
    const path = `${dir}/r.md`;
    await writeTextFileAtomic(path, "first\n");
    await writeTextFileAtomic(path, "second\n");
    assert.equal(await Deno.readTextFile(path), "second\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["r.md"]);
    await assert.rejects(
      writeTextFileAtomic(`${dir}/missing/r.md`, "x"),
      (e: unknown) => e instanceof CensusError && e.code === "io",
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["r.md"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
