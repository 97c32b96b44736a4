// The hypotheses as a set: unique ids, valid configs, a gate test and
// recorded outcomes for each, and committed records that are current (their
// run key is what the engine computes today, so `reproduce` reuses them).

import assert from "node:assert/strict";
import { checkHypotheses, HYPOTHESES } from "../hypotheses/mod.ts";
import { readOutcomes } from "../src/verdict/outcomes.ts";
import { recordsOf } from "../src/history/records.ts";
import { parseOverride } from "../src/hypothesis/overrides.ts";
import { pointLabel, sweepPoints } from "../src/hypothesis/grid.ts";
import { RECORDS_DIR } from "../src/history/locations.ts";
import { prepareRun } from "../src/run/prepare.ts";

Deno.test("hypothesis ids are unique and every config is valid", () => {
  checkHypotheses(HYPOTHESES);
  const h = HYPOTHESES[0];
  assert.throws(
    () => checkHypotheses([h, { ...h }]),
    new RegExp(`hypothesis id "${h.id}" is used twice`),
  );
  assert.throws(
    () =>
      checkHypotheses([{
        ...h,
        config: { ...h.config, adamw: { ...h.config.adamw, beta1: 2 } },
      }]),
    /adamw\.beta1 must be in \[0, 1\)/,
  );
});

Deno.test(
  "every hypothesis has a gate test and recorded outcomes at both tiers",
  {
    // A hypothesis whose first runs are still in progress has no outcomes yet.
    ignore: Deno.env.get("HORIZON_PENDING") === "1",
  },
  async () => {
    for (const h of HYPOTHESES) {
      const test = await Deno.readTextFile(
        new URL(`./${h.id}_test.ts`, import.meta.url),
      );
      assert.match(
        test,
        /gateHypothesis\(hypothesis, \{ smoke: "(null|positive)", full: "(null|positive)" \}\)/,
      );
      const outcomes = await readOutcomes(RECORDS_DIR, h.id);
      for (const tier of ["smoke", "full"] as const) {
        assert.ok(
          outcomes.some((o) => o.tier === tier),
          `${h.id}: no recorded ${tier} outcome`,
        );
      }
    }
  },
);

Deno.test("committed records carry the run key the engine computes today", async () => {
  for (const h of HYPOTHESES) {
    const outcomes = await readOutcomes(RECORDS_DIR, h.id);
    for (const tier of ["smoke", "full"] as const) {
      const points = ["", ...sweepPoints(h).map(pointLabel)];
      for (
        const r of await recordsOf(
          RECORDS_DIR,
          h.id,
          tier,
          h.config.seed,
          points,
        )
      ) {
        const p = await prepareRun(h, {
          tier,
          seed: r.seed,
          backend: r.backend,
          overrides: r.overrides.map(parseOverride),
        });
        assert.equal(
          r.key,
          p.key,
          `${h.id} ${tier} seed ${r.seed} (${r.backend}): the committed record's key is stale ` +
            `(changed: ${
              Object.keys(p.identity).filter((k) =>
                JSON.stringify(p.identity[k as keyof typeof p.identity]) !==
                  JSON.stringify(r.identity[k as keyof typeof r.identity])
              ).join(", ")
            }); re-run it, or prove bit-identity with \`deno task rekey\``,
        );
        const o = outcomes.find((x) =>
          x.tier === tier && x.backend === r.backend && x.seed === r.seed &&
          (x.point ?? "") === r.overrides.join(" ")
        );
        if (o) {
          assert.equal(
            o.key,
            r.key,
            `${h.id}: outcomes.json is not from this record (deno task record)`,
          );
        }
      }
    }
  }
});
