import assert from "node:assert/strict";
import {
  formatRunEvent,
  isRunEnd,
  parseRunEvent,
  type RunEvent,
  RunEventError,
} from "./events.ts";
import { fakeRecord, fakeSpec } from "../testing/fake_runs.ts";

const spec = fakeSpec("ok");

Deno.test("run events: every variant reads back as written, with exactly its fields", () => {
  const events: RunEvent[] = [
    { type: "started", spec },
    { type: "progress", spec, step: 3, steps: 20, loss: 4.25 },
    { type: "checkpointed", spec, step: 4 },
    { type: "note", spec, text: "resuming from the checkpoint at step 4" },
    { type: "finished", spec, record: fakeRecord(spec), replicas: 3 },
    { type: "diverged", spec, message: "diverged at step 3 (loss NaN)" },
    {
      type: "diverged",
      spec,
      message: "diverged at step 3 (recorded as invalid)",
      record: fakeRecord(spec),
    },
    { type: "failed", spec, message: "out of memory" },
    { type: "stopped", spec, message: "stopped after step 2 of 20" },
  ];
  for (const e of events) {
    const line = formatRunEvent(e);
    assert.ok(!line.includes("\n"), "one line");
    assert.deepEqual(parseRunEvent(line), e);
  }
  // Extra fields of the line do not come through.
  assert.deepEqual(
    parseRunEvent(JSON.stringify({ type: "started", spec, index: 2 })),
    { type: "started", spec },
  );
  assert.deepEqual(
    events.filter(isRunEnd).map((e) => e.type),
    ["finished", "diverged", "diverged", "failed", "stopped"],
  );
});

Deno.test("run events: a loss JSON cannot hold reads back as NaN", () => {
  const line = formatRunEvent({
    type: "progress",
    spec,
    step: 1,
    steps: 2,
    loss: Infinity,
  });
  const e = parseRunEvent(line);
  assert.ok(e.type === "progress" && Number.isNaN(e.loss));
});

Deno.test("run events: a malformed line is an error naming the field", () => {
  const bad: [unknown, RegExp][] = [
    [
      { type: "progress", spec, step: "3", steps: 20, loss: 1 },
      /"progress": field "step" is not a non-negative integer/,
    ],
    [{ type: "progress", spec, step: 3, loss: 1 }, /field "steps" is not/],
    [
      { type: "progress", spec, step: 3, steps: 20, loss: "x" },
      /field "loss" is not a number/,
    ],
    [{ type: "checkpointed", spec, step: -1 }, /field "step"/],
    [{ type: "failed", spec }, /"failed": field "message" is not a string/],
    [{ type: "note", spec, text: 3 }, /field "text" is not a string/],
    [
      { type: "started", spec: { ...spec, key: "short" } },
      /field "spec" is not a run spec/,
    ],
    [{ type: "started" }, /field "spec" is not a run spec/],
    [
      { type: "finished", spec, replicas: 1, record: { format: 0 } },
      /field "record" is not a run record/,
    ],
    [{ type: "finished", spec, record: fakeRecord(spec) }, /field "replicas"/],
    [
      { type: "diverged", spec, message: "x", record: { format: 0 } },
      /"diverged": field "record" is not a run record/,
    ],
    [
      { type: "done", spec },
      /unknown type "done": field "type" must be one of/,
    ],
    [[1, 2], /not a JSON object/],
  ];
  for (const [value, message] of bad) {
    assert.throws(
      () => parseRunEvent(JSON.stringify(value)),
      (e: unknown) => e instanceof RunEventError && message.test(e.message),
      JSON.stringify(value).slice(0, 80),
    );
  }
  assert.throws(() => parseRunEvent('{"type":'), /run event is not JSON/);
});
