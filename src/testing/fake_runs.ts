/**
 * Fake runs for the queue tests: specs with fresh random keys and records
 * cut from a committed one, so a fake worker can "train" in milliseconds.
 *
 * @module
 */

import type { RunSpec } from "../executor/plan.ts";
import { readRecord } from "../history/records.ts";
import type { RunRecord } from "../hypothesis/types.ts";

const TEMPLATE = (await readRecord(
  new URL(
    "../../reports/data/control-layernorm/smoke-seed42-cpu.json",
    import.meta.url,
  ).pathname,
))!;

let specCounter = 0;

/** A spec with a fresh random key; `name` tells a fake run what to do. */
export function fakeSpec(name: string): RunSpec {
  const key = [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return {
    hypothesisId: name,
    tier: "smoke",
    seed: ++specCounter,
    overrides: [],
    backend: "cpu",
    key,
  };
}

/** A complete record for `spec` whose last loss is `lastLoss`. */
export function fakeRecord(spec: RunSpec, lastLoss = 1): RunRecord {
  return {
    ...TEMPLATE,
    key: spec.key,
    seed: spec.seed,
    loss: [...TEMPLATE.loss.slice(0, -1), lastLoss],
  };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));
