import assert from "node:assert/strict";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import { parseOverride } from "../hypothesis/overrides.ts";
import { planRuns } from "../executor/plan.ts";
import type { Hypothesis } from "../hypothesis/types.ts";
import { runHypothesisDetailed } from "./run.ts";

/** Tiny, with noise at 3e-3 and a sweep over the scale holding that value. */
const SWEPT: Hypothesis = {
  ...tinyHypothesis("own-value", {
    config: { noise: { param: "transformer.wte.weight", scale: 3e-3 } },
  }),
  sweep: [{ path: "noise.scale", values: [1e-3, 3e-3] }],
};

Deno.test("run --set <the hypothesis's own value> finds the unmodified run's record, as the planner does", async () => {
  // `run 11.2f-noise-sweep --set noise.scale=3e-7` retrained although the
  // planner (sweep --dry-run) found smoke-seed42-cpu.json: same key.
  await withTempDir(async (dir) => {
    const where = {
      tier: "smoke",
      backend: "cpu",
      recordsDir: `${dir}/records`,
      cacheDir: `${dir}/cache`,
    } as const;
    const plain = await runHypothesisDetailed(SWEPT, where);
    assert.equal(plain.path, `${dir}/records/own-value/smoke-seed42-cpu.json`);
    let trained = 0;
    const own = await runHypothesisDetailed(SWEPT, {
      ...where,
      overrides: [parseOverride("noise.scale=3e-3")],
      onStep: () => void trained++,
    });
    assert.equal(trained, 0, "nothing trained");
    assert.equal(own.cached, true);
    assert.equal(own.path, plain.path);
    assert.equal(own.record.key, plain.record.key);
    // The planner finds the same record for its own point, and plans the
    // other point.
    const plan = await planRuns(SWEPT, {
      tier: "smoke",
      backend: "cpu",
      recordsDir: `${dir}/records`,
    });
    assert.deepEqual(
      plan.map((p) => [p.point, p.record?.key ?? null]),
      [["noise.scale=0.001", null], ["noise.scale=0.003", plain.record.key]],
    );
    // Another value is another run: trained, under its own name.
    const other = await runHypothesisDetailed(SWEPT, {
      ...where,
      overrides: [parseOverride("noise.scale=1e-3")],
      onStep: () => void trained++,
    });
    assert.equal(other.cached, false);
    assert.ok(trained > 0);
    assert.match(other.path!, /smoke-seed42-cpu-noise\.scale=0\.001\.json$/);
  });
});
