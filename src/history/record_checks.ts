/**
 * A run record checked against itself: every number a report, gate or cache
 * reads must follow from the others, so a record edited by hand or damaged
 * on disk is caught when it is read rather than reported. Beyond the
 * digests that seal a record file (`record_file.ts`), which catch an edit
 * but not a record written wrong, the identity (what the run key hashes)
 * must name the record's config, corpus, steps and backend, `final.C` and
 * `final.P` must be the count and total of the listed clusters, the
 * trajectory must be a run's trajectory and end where `final` does, and the
 * verdict must be the rule applied to C, P and the dead-token count.
 *
 * The losses themselves cannot be checked this way (no other field
 * determines them): the arrays file's SHA-256 covers them, and the embedding
 * history's SHA-256 what the history holds.
 *
 * @module
 */

import { canonicalJson } from "../step/config.ts";
import type {
  FinalRecord,
  RunRecord,
  TrajectoryRecord,
} from "../hypothesis/types.ts";
import { verdictOf } from "../verdict/verdict.ts";

/**
 * Why `r` (whose fields have the right types, see `parseRecord`) contradicts
 * itself, or null when it does not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordInconsistency } from "./record_checks.ts";
 * import { readRecord } from "./records.ts";
 * const path = new URL(
 *   "../../reports/data/11.2b-jiggling/full-seed3-cpu.json",
 *   import.meta.url,
 * ).pathname;
 * const r = (await readRecord(path))!;
 * assert.equal(recordInconsistency(r), null);
 * const edited = { ...r, final: { ...r.final!, C: 7, P: 12 } };
 * assert.match(recordInconsistency(edited)!, /final\.C is 7/);
 * ```
 */
export function recordInconsistency(r: RunRecord): string | null {
  return identityProblem(r) ?? trajectoryProblem(r) ??
    (r.final ? finalProblem(r, r.final) : null);
}

/**
 * The identity (what the run key hashes) against the fields it names. The
 * key itself is compared with today's key where it is used (a stale key is
 * not a malformed record).
 */
function identityProblem(r: RunRecord): string | null {
  if (canonicalJson(r.identity.config) !== canonicalJson(r.config)) {
    return "its config is not the one its identity names";
  }
  if (r.identity.corpusSha256 !== r.corpus.sha256) {
    return "its corpus is not the one its identity names";
  }
  return null;
}

/** The trajectory: a run's recorded steps, its first escape and split. */
function trajectoryProblem(r: RunRecord): string | null {
  const t: TrajectoryRecord = r.trajectory;
  const ran = r.loss.length;
  const V = r.config.model.vocabSize;
  for (let i = 0; i < t.step.length; i++) {
    const [step, C, P] = [t.step[i], t.C[i], t.P[i]];
    if (!Number.isSafeInteger(step) || step < 0 || step > ran) {
      return `trajectory.step[${i}] = ${step} is outside 0..${ran}`;
    }
    if (i > 0 && step <= t.step[i - 1]) {
      return "trajectory.step is not ascending";
    }
    if (
      !isCount(C) || !isCount(P) || P < 2 * C || P > V ||
      (C === 0) !== (P === 0)
    ) {
      return `trajectory at step ${step}: C = ${C}, P = ${P} is no clustering of ${V} rows`;
    }
  }
  if (t.step.length > 0 && t.step[0] !== 0) {
    return "trajectory does not start at step 0";
  }
  const dead = r.corpus.deadTokens.length;
  const at = t.step.findIndex((s, k) => s > 0 && t.P[k] < dead);
  const escape = at < 0 ? null : t.step[at];
  if (t.firstEscape !== escape) {
    return `trajectory.firstEscape is ${t.firstEscape}, its P values make it ${escape}`;
  }
  if (
    t.firstSplit !== null &&
    (t.firstSplit === 0 || !t.step.includes(t.firstSplit))
  ) {
    return `trajectory.firstSplit ${t.firstSplit} is not a recorded step`;
  }
  // Fewer rows in clusters than dead tokens leaves a dead token apart from
  // the others: the split came at the escape or before it.
  if (
    escape !== null && dead > 1 &&
    (t.firstSplit === null || t.firstSplit > escape)
  ) {
    return `trajectory.firstSplit is ${t.firstSplit}, but the dead tokens were already split at the first escape (step ${escape})`;
  }
  return null;
}

/** `final` against its clusters, the trajectory's end and the verdict. */
function finalProblem(r: RunRecord, f: FinalRecord): string | null {
  const V = r.config.model.vocabSize;
  const seen = new Set<number>(f.nonFinite);
  let P = 0;
  for (const [i, c] of f.clusters.entries()) {
    const tokens = c.tokens;
    if (
      !isCount(c.population) || c.population < 2 ||
      !Array.isArray(tokens) || tokens.length !== c.population
    ) {
      return `final.clusters[${i}] has population ${c.population} and ${
        Array.isArray(tokens) ? tokens.length : "no"
      } tokens`;
    }
    if (i > 0 && c.population > f.clusters[i - 1].population) {
      return "final.clusters are not by population descending";
    }
    for (const [j, token] of tokens.entries()) {
      if (!isCount(token) || token >= V || (j > 0 && token <= tokens[j - 1])) {
        return `final.clusters[${i}] tokens are not ascending ids below ${V}`;
      }
      if (seen.has(token)) return `token ${token} is in two clusters`;
      seen.add(token);
    }
    P += c.population;
  }
  if (f.C !== f.clusters.length) {
    return `final.C is ${f.C} but ${f.clusters.length} clusters are listed`;
  }
  if (f.P !== P) {
    return `final.P is ${f.P} but the listed clusters hold ${P} tokens`;
  }
  const last = r.trajectory.step.length - 1;
  if (
    last >= 0 && r.trajectory.step[last] === r.steps &&
    (r.trajectory.C[last] !== f.C || r.trajectory.P[last] !== f.P)
  ) {
    return `final C = ${f.C}, P = ${f.P} differ from the trajectory's last step (${
      r.trajectory.C[last]
    }, ${r.trajectory.P[last]})`;
  }
  const verdict = verdictOf(f, r.corpus.deadTokens.length);
  if (r.verdict !== verdict) {
    return `verdict ${r.verdict} does not follow from C and P (${verdict})`;
  }
  return null;
}

function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}
