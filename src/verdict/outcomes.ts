/**
 * Recorded outcomes: the exact C, P, populations and verdict that the CI gate
 * holds each hypothesis to, per (tier, backend, seed). They are data, not
 * source: `reports/data/<id>/outcomes.json` is written only by
 * `deno task record` from committed run records (the `assertSnapshot
 * --update` pattern), and a change shows up in review as a diff of that file.
 *
 * @module
 */

import { writeTextAtomic } from "../io/atomic.ts";
import { readTextFileOrNull } from "../io/read_or_null.ts";
import type { BackendName } from "../runtime/engine.ts";
import type { CompleteRunRecord, Tier, Verdict } from "../hypothesis/types.ts";

/** Format tag of an outcomes file. */
export const OUTCOMES_FORMAT = "horizon-outcomes/1";

/** The numbers one run is held to. */
export interface RecordedOutcome {
  /** Tier the run was executed at. */
  readonly tier: Tier;
  /** Backend the run executed on. */
  readonly backend: BackendName;
  /** Seed of the replicate. */
  readonly seed: number;
  /** Sweep point (override texts joined by a space); absent: the own config. */
  readonly point?: string;
  /** Number of training steps run. */
  readonly steps: number;
  /** Run key of the record these numbers came from. */
  readonly key: string;
  /** The run's verdict. */
  readonly verdict: Verdict;
  /** Number of clusters in the final embedding. */
  readonly C: number;
  /** Number of rows in clusters in the final embedding. */
  readonly P: number;
  /** Population of each final cluster, by population descending. */
  readonly populations: readonly number[];
  /**
   * Allowed absolute deviation of C and P on a re-run (absent: exact). Set
   * by hand in review; `deno task record` keeps it.
   */
  readonly tolerance?: { readonly C: number; readonly P: number };
}

/** Contents of an outcomes file. */
export interface OutcomesFile {
  readonly format: typeof OUTCOMES_FORMAT;
  readonly hypothesisId: string;
  readonly note: string;
  readonly outcomes: readonly RecordedOutcome[];
}

/** Path of a hypothesis's outcomes file. */
export function outcomesPath(dir: string, id: string): string {
  return `${dir}/${id}/outcomes.json`;
}

/** An outcomes file that cannot be used. */
export class OutcomesError extends Error {
  override name = "OutcomesError";
}

/**
 * Reads a hypothesis's recorded outcomes ([] when the file is absent);
 * throws {@link OutcomesError} naming the path when it is malformed.
 */
export async function readOutcomes(
  dir: string,
  id: string,
): Promise<RecordedOutcome[]> {
  const path = outcomesPath(dir, id);
  const text = await readTextFileOrNull(path);
  if (text === null) return [];
  const fail = (why: string): never => {
    throw new OutcomesError(`malformed outcomes file ${path}: ${why}`);
  };
  let f: OutcomesFile;
  try {
    f = JSON.parse(text);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (f?.format !== OUTCOMES_FORMAT) fail(`format is not ${OUTCOMES_FORMAT}`);
  if (f.hypothesisId !== id) fail(`it is for ${f.hypothesisId}`);
  if (!Array.isArray(f.outcomes)) fail("outcomes is not a list");
  for (const o of f.outcomes) {
    const ok = (o.tier === "smoke" || o.tier === "full") &&
      typeof o.backend === "string" && Number.isSafeInteger(o.seed) &&
      Number.isSafeInteger(o.steps) && Number.isSafeInteger(o.C) &&
      Number.isSafeInteger(o.P) && Array.isArray(o.populations) &&
      (o.verdict === "null" || o.verdict === "positive");
    if (!ok) fail(`entry ${JSON.stringify(o)} is incomplete`);
  }
  return [...f.outcomes];
}

/** The recorded outcome for one (tier, backend, seed), if any. */
export function findOutcome(
  outcomes: readonly RecordedOutcome[],
  tier: Tier,
  backend: BackendName,
  seed: number,
  point = "",
): RecordedOutcome | undefined {
  return outcomes.find((o) =>
    o.tier === tier && o.backend === backend && o.seed === seed &&
    (o.point ?? "") === point
  );
}

/** The outcome a completed run gives (no tolerance: exact). */
export function outcomeOfRun(r: CompleteRunRecord): RecordedOutcome {
  const point = r.overrides.join(" ");
  return {
    tier: r.tier,
    backend: r.backend,
    seed: r.seed,
    ...(point ? { point } : {}),
    steps: r.steps,
    key: r.key,
    verdict: r.verdict,
    C: r.final.C,
    P: r.final.P,
    populations: r.final.clusters.map((c) => c.population),
  };
}

/**
 * Merges outcomes of `runs` into the hypothesis's outcomes file (replacing
 * entries of the same tier, backend and seed, keeping their tolerance) and
 * writes it atomically. Returns one line per entry that changed.
 */
export async function writeOutcomes(
  dir: string,
  id: string,
  runs: readonly CompleteRunRecord[],
): Promise<string[]> {
  const current = await readOutcomes(dir, id);
  const changes: string[] = [];
  const merged = [...current];
  for (const r of runs) {
    const next = outcomeOfRun(r);
    const i = merged.findIndex((o) =>
      o.tier === next.tier && o.backend === next.backend &&
      o.seed === next.seed && (o.point ?? "") === (next.point ?? "")
    );
    const old = i >= 0 ? merged[i] : undefined;
    const entry = old?.tolerance ? { ...next, tolerance: old.tolerance } : next;
    const label = `${id} ${next.tier} ${next.backend} seed ${next.seed}${
      next.point ? ` [${next.point}]` : ""
    }`;
    const summary = (o: RecordedOutcome) =>
      `${o.verdict} C=${o.C} P=${o.P} [${o.populations.join("/")}]`;
    if (!old) changes.push(`${label}: new, ${summary(next)}`);
    else if (JSON.stringify(old) !== JSON.stringify(entry)) {
      changes.push(
        `${label}: ${summary(old)} -> ${summary(next)}${
          old.key !== next.key ? " (new run key)" : ""
        }`,
      );
    }
    if (i >= 0) merged[i] = entry;
    else merged.push(entry);
  }
  const tierOrder = (t: Tier) => (t === "smoke" ? 0 : 1);
  merged.sort((a, b) =>
    tierOrder(a.tier) - tierOrder(b.tier) ||
    (a.point ?? "").localeCompare(b.point ?? "") ||
    a.backend.localeCompare(b.backend) || a.seed - b.seed
  );
  const file: OutcomesFile = {
    format: OUTCOMES_FORMAT,
    hypothesisId: id,
    note:
      "Written by `deno task record` from the run records beside it; the CI gate holds re-runs to these numbers. Review changes in the diff.",
    outcomes: merged,
  };
  await writeTextAtomic(
    outcomesPath(dir, id),
    JSON.stringify(file, null, 2) + "\n",
    { createDirs: true },
  );
  return changes;
}
