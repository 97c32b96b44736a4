import assert from "node:assert/strict";
import { CodedError } from "./coded_error.ts";

class DemoError extends CodedError<"a" | "b"> {}

Deno.test("CodedError: code, message, the subclass's name, and instanceof", () => {
  const e = new DemoError("b", "what went wrong");
  assert.equal(e.code, "b");
  assert.equal(e.message, "what went wrong");
  assert.equal(e.name, "DemoError");
  assert.ok(e instanceof DemoError && e instanceof CodedError);
  assert.ok(e instanceof Error);
  assert.match(String(e.stack), /^DemoError: what went wrong/);
});

Deno.test("CodedError: a cause is kept", () => {
  const cause = new Error("inner");
  assert.equal(new DemoError("a", "outer", { cause }).cause, cause);
});
