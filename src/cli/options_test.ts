import assert from "node:assert/strict";
import {
  backendListOption,
  backendOption,
  choiceOption,
  tierOption,
} from "./options.ts";
import { UsageError } from "./errors.ts";

/** The UsageError message `fn` throws. */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    return e.message;
  }
  assert.fail("no UsageError");
}

Deno.test("tierOption: smoke, full, or not given; anything else is one line", () => {
  assert.equal(tierOption("smoke"), "smoke");
  assert.equal(tierOption("full"), "full");
  assert.equal(tierOption(undefined), undefined);
  assert.equal(
    usage(() => tierOption("medium")),
    '--tier must be one of: smoke, full, got "medium"',
  );
  assert.equal(
    usage(() => tierOption("")),
    '--tier must be one of: smoke, full, got ""',
  );
});

Deno.test("backendOption: auto only where allowed", () => {
  assert.equal(backendOption("auto", { auto: true }), "auto");
  assert.equal(backendOption("wasm", { auto: true }), "wasm");
  assert.equal(backendOption("cpu"), "cpu");
  assert.equal(backendOption(undefined), undefined);
  assert.equal(
    usage(() => backendOption("auto")),
    '--backend must be one of: cpu, wasm, webgpu, got "auto"',
  );
  assert.equal(
    usage(() => backendOption("gpu", { auto: true })),
    '--backend must be one of: auto, cpu, wasm, webgpu, got "gpu"',
  );
  // Case matters: the names are written as they are recorded.
  assert.throws(() => backendOption("CPU"), UsageError);
});

Deno.test("backendListOption: each name checked under the option's name", () => {
  assert.deepEqual(backendListOption("backends", "cpu, webgpu"), [
    "cpu",
    "webgpu",
  ]);
  assert.equal(backendListOption("backends", undefined), undefined);
  assert.equal(
    usage(() => backendListOption("backends", "cpu,metal")),
    '--backends must be one of: cpu, wasm, webgpu, got "metal"',
  );
});

Deno.test("choiceOption: a value is matched whole, not as a prefix", () => {
  assert.equal(choiceOption("x", "a", ["a", "ab"]), "a");
  assert.throws(() => choiceOption("x", "a ", ["a"]), UsageError);
});
