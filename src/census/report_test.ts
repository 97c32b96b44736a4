import assert from "node:assert/strict";
import type { CensusReport } from "./census.ts";
import { CensusError } from "./census_error.ts";
import {
  censusMarkdown,
  censusText,
  isCensusReportText,
  writeTextFileAtomic,
} from "./report.ts";

/** A hand-made report: one tied BF16 embedding with two clusters. */
function report(): CensusReport {
  return {
    path: "/models/tiny",
    files: ["/models/tiny/model.safetensors"],
    index: null,
    tokenizer: { path: "/models/tiny/tokenizer.json", tokens: 6 },
    tokenizerError: null,
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
      nonFinite: [],
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
  // (codeSpan of the hypothesis reports: a fence longer than any backtick
  // run inside, padded only where a backtick touches it.)
  assert.match(md, /^\| 2 \| 2 \| `2 "\\n"`, ``3 "`q`"`` \|$/m);
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

Deno.test("censusText() still prints the example of reports/census.md byte for byte", async () => {
  // The committed example (11.2b's final embedding) was pasted from a real
  // run; a report with the same content must render to the same text.
  const doc = await Deno.readTextFile(
    new URL("../../reports/census.md", import.meta.url),
  );
  const expected = /```\n(census of \/tmp\/ckpt-11\.2b\n[\s\S]*?)\n```/.exec(
    doc,
  )
    ?.[1];
  assert.ok(expected !== undefined, "example block not found");
  const label = (id: number) =>
    id < 32
      ? `<0x${id.toString(16).toUpperCase().padStart(2, "0")}>`
      : String.fromCharCode(id);
  const cluster = (tokens: number[]) => ({
    population: tokens.length,
    tokens,
    labels: tokens.map(label),
  });
  const first = [1, 3, 4, 5, 6, 7, 9, 17];
  for (let id = 32; first.length < 28; id++) first.push(id);
  const r: CensusReport = {
    path: "/tmp/ckpt-11.2b",
    files: ["/tmp/ckpt-11.2b/model.safetensors"],
    index: null,
    tokenizer: { path: "/tmp/ckpt-11.2b/tokenizer.json", tokens: 128 },
    tokenizerError: null,
    tying: {
      status: "tied",
      detail:
        "no output-head tensor (e.g. lm_head.weight) is stored, so the head reuses transformer.wte.weight (Hugging Face convention)",
    },
    tensors: [{
      name: "transformer.wte.weight",
      role: "embedding+unembedding",
      file: "/tmp/ckpt-11.2b/model.safetensors",
      dtype: "BF16",
      shape: [128, 64],
      distinct: 86,
      C: 6,
      P: 48,
      clusters: [
        cluster(first),
        cluster([11, 12, 15, 19, 25, 29, 30, 125, 126]),
        cluster([0, 8, 13, 22]),
        cluster([16, 61, 96]),
        cluster([14, 27]),
        cluster([60, 94]),
      ],
      nonFinite: [],
      nonFiniteLabels: [],
      seconds: 0.02,
    }],
    notes: [],
    seconds: 0.02,
  };
  assert.equal(censusText(r), expected);
});

/** The tiny report with rows 5, 6 and 8 holding NaN or Inf. */
function withNonFinite(): CensusReport {
  const r = report();
  r.tensors[0] = {
    ...r.tensors[0],
    distinct: 4,
    nonFinite: [5, 6, 8],
    nonFiniteLabels: ["e", "f|g", null],
  };
  return r;
}

Deno.test("censusText() lists NaN/Inf rows apart from the clusters", () => {
  const text = censusText(withNonFinite(), { tokensPerCluster: 2 });
  assert.match(
    text,
    /^ {2}C = 2 clusters, P = 5 rows; 4 distinct finite rows of 10$/m,
  );
  assert.match(
    text,
    /^ {2}3 rows hold NaN\/Inf values \(excluded from clusters\): 5 "e", 6 "f\|g", \.\.\. \(\+1\)$/m,
  );
  // Without non-finite rows there is no such line (and no "finite").
  const plain = censusText(report());
  assert.ok(!/NaN|finite/.test(plain), plain);
  // One row, no tokenizer: singular, ids only.
  const one = withNonFinite();
  one.tensors[0] = {
    ...one.tensors[0],
    nonFinite: [7],
    nonFiniteLabels: undefined,
  };
  assert.match(
    censusText(one),
    /^ {2}1 row holds NaN\/Inf values \(excluded from clusters\): 7$/m,
  );
});

Deno.test("censusMarkdown() lists NaN/Inf rows apart from the clusters", () => {
  const md = censusMarkdown(withNonFinite());
  assert.match(
    md,
    /^\*\*3 rows hold NaN\/Inf values \(excluded from clusters\):\*\* `5 "e"`, `6 "f\\\|g"`, `8 \(no token\)`$/m,
  );
  // All rows non-finite: no claim that "all rows are distinct".
  const dead = withNonFinite();
  dead.tensors[0] = {
    ...dead.tensors[0],
    C: 0,
    P: 0,
    distinct: 0,
    clusters: [],
    nonFinite: Array.from({ length: 10 }, (_, i) => i),
    nonFiniteLabels: undefined,
  };
  const deadMd = censusMarkdown(dead);
  assert.match(deadMd, /^No black holes among the 0 finite rows\.$/m);
  assert.ok(!deadMd.includes("are distinct"));
  assert.match(
    deadMd,
    /^\*\*10 rows hold NaN\/Inf values \(excluded from clusters\):\*\* `0`, `1`, .*, \.\.\. \(\+2\)$/m,
  );
  assert.ok(!censusMarkdown(report()).includes("NaN"));
});

Deno.test("an invalid tokenizer.json is reported once, as invalid, never as absent", () => {
  const r = report();
  r.tokenizer = null;
  r.tokenizerError = {
    path: "/models/tiny/tokenizer.json",
    reason: "not valid JSON (Unexpected end of JSON input)",
  };
  r.notes = [];
  r.tensors[0] = {
    ...r.tensors[0],
    clusters: r.tensors[0].clusters.map(({ population, tokens }) => ({
      population,
      tokens,
    })),
  };
  const text = censusText(r);
  assert.match(
    text,
    /^ {2}tokenizer: {3}warning: \/models\/tiny\/tokenizer\.json: not valid JSON \(Unexpected end of JSON input\); ignored, token ids are shown instead$/m,
  );
  assert.equal(text.split("tokenizer.json").length - 1, 1, text);
  assert.ok(!/none|no tokenizer/.test(text), text);
  const md = censusMarkdown(r);
  assert.match(
    md,
    /^\| Tokenizer \| \*\*invalid\*\*, ignored: `tokenizer\.json` \(`not valid JSON \(Unexpected end of JSON input\)`\); token ids are shown instead \|$/m,
  );
  assert.equal(md.split("tokenizer.json").length - 1, 1 + 1, md); // + Method
  assert.ok(!md.includes("none (no"), md);
});

Deno.test("isCensusReportText() recognises the census's Markdown and JSON reports only", () => {
  const md = censusMarkdown(report(), { command: "deno task census x" });
  assert.ok(isCensusReportText(md));
  assert.ok(isCensusReportText(JSON.stringify(report(), null, 2)));
  // The hand-written reports/census.md, other Markdown, JSON and binaries.
  assert.ok(!isCensusReportText("# Census: black holes in real checkpoints\n"));
  assert.ok(!isCensusReportText(md.replace("## Provenance", "## Origin")));
  assert.ok(!isCensusReportText("# Notes\n\n" + md));
  assert.ok(!isCensusReportText('{"weight_map": {}}'));
  assert.ok(!isCensusReportText("{ not json"));
  assert.ok(!isCensusReportText("[]"));
  assert.ok(!isCensusReportText(""));
});
