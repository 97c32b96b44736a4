/**
 * Run records on disk: where they live, and reading them back with every
 * field checked. A malformed record is named by path in one line
 * ({@link RecordError}); callers decide whether that is a cache miss (`run`)
 * or an error (`report`), never a silent fall-back.
 *
 * Layout: `<dir>/<hypothesis>/<tier>-seed<seed>-<backend>[-<N>steps][-<variant>].json`.
 * The backend is part of the name, so records of one run on cpu and wasm
 * live side by side; a shortened run (`--steps`) and a variant (`--set`,
 * `--corpus`) never replace the tier's own record.
 *
 * @module
 */

import { type BackendName, BACKENDS } from "../runtime/engine.ts";
import {
  type CompleteRunRecord,
  isComplete,
  RECORD_FORMAT,
  type RunRecord,
  type Tier,
} from "../hypothesis/types.ts";
import { verdictOf } from "../verdict/verdict.ts";

/** A record file that exists but cannot be used. */
export class RecordError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "RecordError";
  /** Path of the malformed record file. */
  readonly path: string;
  /**
   * Builds the error for the record at `path`, saying what is wrong with it.
   */
  constructor(path: string, problem: string) {
    super(`malformed run record ${path}: ${problem}`);
    this.path = path;
  }
}

/** What names one record file. */
export interface RecordName {
  /** Id of the hypothesis. */
  readonly hypothesisId: string;
  /** Tier of the run. */
  readonly tier: Tier;
  /** Seed of the replicate. */
  readonly seed: number;
  /** Backend of the run. */
  readonly backend: BackendName;
  /** Set when the step count was overridden (not the tier's own length). */
  readonly steps?: number;
  /** Short hash of the overrides and corpus of a variant run. */
  readonly variant?: string;
}

/**
 * File stem of a record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordStem } from "./records.ts";
 * assert.equal(
 *   recordStem({ hypothesisId: "x", tier: "full", seed: 42, backend: "cpu" }),
 *   "full-seed42-cpu",
 * );
 * ```
 */
export function recordStem(n: RecordName): string {
  return `${n.tier}-seed${n.seed}-${n.backend}` +
    (n.steps === undefined ? "" : `-${n.steps}steps`) +
    (n.variant === undefined ? "" : `-${n.variant}`);
}

/** Path of a record under `dir`. */
export function recordPath(dir: string, n: RecordName): string {
  return `${dir}/${n.hypothesisId}/${recordStem(n)}.json`;
}

/**
 * Matches the file of a whole-tier record, with or without a variant (a
 * sweep point): not a shortened (`--steps`) run.
 */
const TIER_RECORD =
  /^(smoke|full)-seed(\d+)-(cpu|wasm|webgpu)(?:-([0-9a-f]{8}))?\.json$/;

/**
 * Parses a record file's text, checking every field a report or gate reads.
 * Throws a {@link RecordError} naming `path`.
 */
export function parseRecord(text: string, path: string): RunRecord {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text);
  } catch (e) {
    throw new RecordError(path, `not JSON (${(e as Error).message})`);
  }
  const fail = (problem: string): never => {
    throw new RecordError(path, problem);
  };
  if (r === null || typeof r !== "object" || Array.isArray(r)) {
    fail("not a JSON object");
  }
  if (r.format !== RECORD_FORMAT) {
    fail(
      `format ${
        JSON.stringify(r.format)
      }, expected ${RECORD_FORMAT} (re-run it)`,
    );
  }
  const str = (k: string) => {
    if (typeof r[k] !== "string" || r[k] === "") fail(`${k} is not a string`);
  };
  const int = (v: unknown, what: string) => {
    if (!Number.isSafeInteger(v) || (v as number) < 0) {
      fail(`${what} is not a non-negative integer`);
    }
  };
  const numbers = (v: unknown, what: string, length?: number) => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "number")) {
      fail(`${what} is not a list of numbers`);
    }
    if (length !== undefined && (v as number[]).length !== length) {
      fail(`${what} has ${(v as number[]).length} entries, expected ${length}`);
    }
  };
  const obj = (v: unknown, what: string) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      fail(`${what} is not an object`);
    }
    return v as Record<string, unknown>;
  };
  str("hypothesisId");
  if (r.tier !== "smoke" && r.tier !== "full") fail("tier is not smoke/full");
  int(r.seed, "seed");
  int(r.steps, "steps");
  if (!BACKENDS.includes(r.backend as BackendName)) fail("unknown backend");
  if (typeof r.key !== "string" || !/^[0-9a-f]{64}$/.test(r.key)) {
    fail("key is not a SHA-256");
  }
  const identity = obj(r.identity, "identity");
  if (identity.steps !== r.steps || identity.backend !== r.backend) {
    fail("identity does not match the record's steps and backend");
  }
  obj(r.config, "config");
  if (!Array.isArray(r.overrides)) fail("overrides is not a list");
  const corpus = obj(r.corpus, "corpus");
  numbers(corpus.deadTokens, "corpus.deadTokens");
  const steps = r.steps as number;
  const status = r.status;
  if (status !== "complete" && status !== "diverged") {
    fail(`status ${JSON.stringify(status)} is not complete/diverged`);
  }
  const ran = status === "complete"
    ? steps
    : (obj(r.divergence, "divergence").step as number);
  numbers(r.loss, "loss", ran);
  numbers(r.gradNorm, "gradNorm", ran);
  const t = obj(r.trajectory, "trajectory");
  numbers(t.step, "trajectory.step");
  const points = (t.step as number[]).length;
  for (const k of ["C", "P", "centroidNorm"]) {
    numbers(t[k], `trajectory.${k}`, points);
  }
  if (status === "complete") {
    const f = obj(r.final, "final");
    int(f.C, "final.C");
    int(f.P, "final.P");
    if (!Array.isArray(f.clusters)) fail("final.clusters is not a list");
    numbers(f.nonFinite, "final.nonFinite");
    const dead = (corpus.deadTokens as number[]).length;
    const expected = verdictOf(f as { C: number; P: number }, dead);
    if (r.verdict !== expected) {
      fail(`verdict ${r.verdict} does not follow from C and P (${expected})`);
    }
    if (r.divergence !== null) fail("a complete run has a divergence");
  } else {
    if (r.final !== null) fail("a diverged run has final numbers");
    if (r.verdict !== "invalid") {
      fail("a diverged run's verdict must be invalid");
    }
  }
  if (r.history !== null) {
    const h = obj(r.history, "history");
    if (typeof h.file !== "string") fail("history.file is not a string");
    int(h.bytes, "history.bytes");
    if (typeof h.sha256 !== "string") fail("history.sha256 is not a string");
  }
  return r as unknown as RunRecord;
}

/**
 * Reads a record: null when the file does not exist; throws
 * {@link RecordError} when it exists but is malformed.
 */
export async function readRecord(path: string): Promise<RunRecord | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new RecordError(path, (e as Error).message);
  }
  return parseRecord(text, path);
}

/**
 * Every whole-tier record of a hypothesis at a tier (any seed, any backend),
 * main seed first. Records of variants are included when their overrides
 * form one of `points` (sweep point labels, override texts joined by a
 * space; default `[""]`: only unmodified runs) and they used the default
 * corpus. Throws {@link RecordError} on the first malformed one: a report
 * never silently leaves a run out.
 */
export async function recordsOf(
  dir: string,
  hypothesisId: string,
  tier: Tier,
  mainSeed: number,
  points: readonly string[] = [""],
): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/${hypothesisId}`)) {
      const m = TIER_RECORD.exec(e.name);
      if (!e.isFile || !m || m[1] !== tier) continue;
      if (m[4] !== undefined && points.every((p) => p === "")) continue;
      const path = `${dir}/${hypothesisId}/${e.name}`;
      const r = (await readRecord(path))!;
      if (
        r.hypothesisId !== hypothesisId || r.tier !== tier ||
        String(r.seed) !== m[2] || r.backend !== m[3]
      ) {
        throw new RecordError(path, "its fields do not match its file name");
      }
      if (!points.includes(r.overrides.join(" "))) continue;
      if (m[4] !== undefined && r.corpus.path !== DEFAULT_CORPUS_PATH) continue;
      runs.push(r);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const order = (b: BackendName) => ["cpu", "wasm", "webgpu"].indexOf(b);
  const point = (r: RunRecord) => points.indexOf(r.overrides.join(" "));
  return runs.sort((a, b) =>
    point(a) - point(b) ||
    (a.seed === mainSeed ? -1 : 0) - (b.seed === mainSeed ? -1 : 0) ||
    a.seed - b.seed || order(a.backend) - order(b.backend)
  );
}

/** The default corpus as records name it (relative to the project root). */
export const DEFAULT_CORPUS_PATH = "fixtures/corpus/brown.txt";

/** Only the records of runs that completed. */
export function completed(runs: readonly RunRecord[]): CompleteRunRecord[] {
  return runs.filter(isComplete);
}
