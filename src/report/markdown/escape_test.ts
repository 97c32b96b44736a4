import assert from "node:assert/strict";
import { codeSpan, escapeCell, markdownCell } from "./escape.ts";

Deno.test("codeSpan() fences backticks, escapes pipes and shows controls", () => {
  assert.equal(codeSpan("'a'"), "`'a'`");
  assert.equal(codeSpan("'`'"), "``'`'``");
  assert.equal(codeSpan("a``b"), "```a``b```");
  assert.equal(codeSpan("`x"), "`` `x ``");
  assert.equal(codeSpan("'|'"), "`'\\|'`");
  assert.equal(codeSpan("a\u0000b\nc"), "`a\\x00b\\x0ac`");
  assert.equal(codeSpan(""), "` `");
});

Deno.test("escapeCell() and markdownCell() keep a table cell one cell", () => {
  assert.equal(escapeCell("a|b `c` *d*"), "a\\|b \\`c\\` \\*d\\*");
  assert.equal(escapeCell("x\ny\r\nz\u0007"), "x y z\\\\x07");
  assert.equal(escapeCell("under_score <b>"), "under\\_score \\<b\\>");
  assert.equal(markdownCell("A | B\nC"), "A \\| B C");
  assert.equal(markdownCell("already \\| escaped"), "already \\| escaped");
});
