import assert from "node:assert/strict";
import { escapeXml } from "./xml.ts";

Deno.test("escapeXml() escapes markup characters and drops XML-illegal controls", () => {
  assert.equal(
    escapeXml(`<a href="x">&'`),
    "&lt;a href=&quot;x&quot;&gt;&amp;&#39;",
  );
  assert.equal(escapeXml("a\u0000b\tc\nd"), "a\ufffdb\tc\nd");
  assert.equal(escapeXml("&amp;"), "&amp;amp;");
});
