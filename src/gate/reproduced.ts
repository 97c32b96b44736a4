/**
 * Whether a re-run reproduced a committed record bit for bit: the first
 * number that differs, in the order a reader would check them (steps, every
 * loss, every gradient norm, C, P, the cluster populations, the final
 * embedding's SHA-256, the verdict), or null when all agree. Used by
 * `deno task reproduce` to verify the committed smoke records.
 *
 * @module
 */

import type { RunRecord } from "../hypothesis/types.ts";

/**
 * The first difference between `committed` and `fresh`, in words
 * (`loss at step 17: committed 3.1234, here 3.1235`), or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstDifference } from "./reproduced.ts";
 * import type { RunRecord } from "../hypothesis/types.ts";
 * const a = { steps: 2, loss: [4.8, 4.5], gradNorm: [1, 1], verdict: "null" } as unknown as RunRecord;
 * assert.equal(firstDifference(a, a), null);
 * assert.equal(
 *   firstDifference(a, { ...a, loss: [4.8, 4.6] }),
 *   "loss at step 2: committed 4.5, here 4.6",
 * );
 * ```
 */
export function firstDifference(
  committed: RunRecord,
  fresh: RunRecord,
): string | null {
  const differ = (what: string, a: unknown, b: unknown) =>
    Object.is(a, b) ? null : `${what}: committed ${a}, here ${b}`;
  const series = (what: string, a: readonly number[], b: readonly number[]) => {
    for (let t = 0; t < Math.max(a.length, b.length); t++) {
      const d = differ(`${what} at step ${t + 1}`, a[t], b[t]);
      if (d) return d;
    }
    return null;
  };
  const a = committed.final, b = fresh.final;
  const pops = (r: RunRecord) =>
    r.final?.clusters.map((c) => c.population).join("/");
  return differ("steps", committed.steps, fresh.steps) ??
    differ("status", committed.status, fresh.status) ??
    series("loss", committed.loss, fresh.loss) ??
    series("gradient norm", committed.gradNorm, fresh.gradNorm) ??
    differ("C", a?.C, b?.C) ??
    differ("P", a?.P, b?.P) ??
    differ("populations", pops(committed), pops(fresh)) ??
    differ(
      "final embedding SHA-256",
      a?.embeddingSha256,
      b?.embeddingSha256,
    ) ??
    differ("verdict", committed.verdict, fresh.verdict);
}
