import assert from "node:assert/strict";
import {
  escapeTokenText,
  loadTokenizer,
  parseTokenizerJson,
  TokenizerError,
} from "./tokenizer.ts";

Deno.test("parseTokenizerJson() reads BPE vocab objects and added tokens", () => {
  const t = parseTokenizerJson(JSON.stringify({
    model: { type: "BPE", vocab: { "a": 0, "Ġthe": 1, "bad": -3, "x": 2.5 } },
    added_tokens: [
      { id: 5, content: "<|im_start|>", special: true },
      { id: 1, content: "override" },
      { content: "no id" },
    ],
  }));
  assert.equal(t.label(0), "a");
  assert.equal(t.label(1), "override"); // added tokens win, like HF
  assert.equal(t.label(5), "<|im_start|>");
  assert.equal(t.label(2), null); // ids must be non-negative integers
  assert.equal(t.label(4), null);
  assert.equal(t.size, 3);
});

Deno.test("parseTokenizerJson() reads Unigram vocab arrays (id = position)", () => {
  const t = parseTokenizerJson(JSON.stringify({
    model: { type: "Unigram", vocab: [["<unk>", 0], ["▁the", -1.5], [7, 0]] },
  }));
  assert.equal(t.label(0), "<unk>");
  assert.equal(t.label(1), "▁the");
  assert.equal(t.label(2), null);
  assert.equal(t.size, 2);
});

Deno.test("parseTokenizerJson() rejects files it cannot use", () => {
  assert.throws(
    () => parseTokenizerJson("{", "t.json"),
    /t\.json: not valid JSON/,
  );
  assert.throws(() => parseTokenizerJson("3"), TokenizerError);
  assert.throws(
    () => parseTokenizerJson(JSON.stringify({ model: { type: "BPE" } })),
    /no "model\.vocab"/,
  );
});

Deno.test("loadTokenizer() returns null without tokenizer.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "horizon_tok_" });
  try {
    assert.equal(await loadTokenizer(dir), null);
    await Deno.writeTextFile(
      `${dir}/tokenizer.json`,
      JSON.stringify({ model: { vocab: { "z": 0 } } }),
    );
    const t = await loadTokenizer(`${dir}/`);
    assert.equal(t?.path, `${dir}/tokenizer.json`);
    assert.equal(t?.label(0), "z");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("escapeTokenText() quotes and makes invisible characters visible", () => {
  assert.equal(escapeTokenText("Ġthe"), '"Ġthe"');
  assert.equal(escapeTokenText('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(escapeTokenText("\n\t\r"), '"\\n\\t\\r"');
  assert.equal(escapeTokenText("\u0000\u007f"), '"\\u{0000}\\u{007F}"');
  assert.equal(escapeTokenText("a\u200bb"), '"a\\u{200B}b"'); // zero-width space
  assert.equal(escapeTokenText("\u00a0 \u3000"), '"\\u{00A0} \\u{3000}"'); // odd spaces; plain space kept
  assert.equal(escapeTokenText("\u2028"), '"\\u{2028}"'); // line separator
  assert.equal(escapeTokenText("\ud800"), '"\\u{D800}"'); // lone surrogate
  assert.equal(escapeTokenText("\ue000"), '"\\u{E000}"'); // private use
  assert.equal(escapeTokenText("日本"), '"日本"');
  assert.equal(escapeTokenText("😀"), '"😀"');
});
