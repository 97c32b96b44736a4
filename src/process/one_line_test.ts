import assert from "node:assert/strict";
import { oneLine } from "./one_line.ts";

Deno.test("oneLine: an Error's message, line breaks and the spaces around them collapsed", () => {
  assert.equal(
    oneLine(new Error("job failed:\n  stderr line 1\n\nline 2")),
    "job failed: stderr line 1 line 2",
  );
  assert.equal(oneLine(new TypeError("single")), "single");
});

Deno.test("oneLine: strings, error-like objects and other values", () => {
  assert.equal(oneLine("a\r\n b"), "a b");
  assert.equal(oneLine({ message: "x\ny" }), "x y");
  assert.equal(oneLine(42), "42");
  assert.equal(oneLine(undefined), "undefined");
  assert.equal(oneLine(null), "null");
  // A non-string message is not a message: the value itself is shown.
  assert.equal(oneLine({ message: 3 }), "[object Object]");
});
