/**
 * Run records on disk: where they live, and reading them back with every
 * field checked and the record checked against itself (`record_checks.ts`).
 * A malformed record is named by path in one line ({@link RecordError});
 * callers decide whether that is a cache miss (a record under the cache) or
 * a refusal naming the command that re-creates it (a committed record, read
 * by `run`, `report` or `record`), never a silent fall-back.
 *
 * Layout: `<dir>/<hypothesis>/<tier>-seed<seed>-<backend>[-<N>steps][-<variant>].json`.
 * The backend is part of the name, so records of one run on cpu and wasm
 * live side by side; a shortened run (`--steps`) and a variant (`--set`,
 * `--corpus`) never replace the tier's own record. Each `<stem>.json` has
 * its per-step arrays beside it in `<stem>.safetensors.gz`, and both are
 * sealed by digests (`record_file.ts`).
 *
 * A variant is named by its sweep point in words, so a reader sees which
 * point a file holds without opening it: `full-seed1-cpu-noise.scale=1e-6.json`
 * ({@link pointWords}). Numbers are written as hypothesis files write them
 * (`1e-6`, `3e-5`, `0.001`), not as JSON prints them (`0.000001`); two or
 * more overrides are joined by `+`, which no override text contains. A name
 * holds only `[A-Za-z0-9._=+-]`, safe on every file system and in URLs.
 * `--set` explorations under `.cache/records/` are named the same way: the
 * name does not depend on where the record goes. Two cases keep an 8-hex
 * hash of the overrides and corpus ({@link recordVariant}): a run on
 * another corpus (`--corpus`: a corpus is what its bytes are, which no short
 * word says, and its path is no identity), and a point whose words would
 * hold another character or exceed {@link MAX_POINT_WORDS} characters (a
 * long `--set` list: file names stop at 255 bytes, and the run's history
 * file adds the hypothesis id to the stem).
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
import {
  type Override,
  overrideText,
  parseOverride,
} from "../hypothesis/overrides.ts";
import { sha256Json } from "../step/config.ts";
import { RECORDS_DIR } from "./locations.ts";
import { recordInconsistency } from "./record_checks.ts";
import { LegacyRecordError, RecordError } from "./record_error.ts";
import { readRecordObject } from "./record_file.ts";

export { LegacyRecordError, RecordError };

/**
 * The command that re-creates the record at `path` (`--force`, so the
 * broken file is not read), from what its file name and folder say; a
 * variant named by a hash needs its `--set`/`--corpus` flags, which no name
 * holds, and the command says so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recreateCommand } from "./records.ts";
 * assert.equal(
 *   recreateCommand("/elsewhere/h/full-seed3-cpu-noise.scale=1e-6.json"),
 *   "deno task run h --tier full --seed 3 --backend cpu --set noise.scale=1e-6 --out /elsewhere --force",
 * );
 * ```
 */
export function recreateCommand(path: string): string {
  const parts = path.split("/");
  const file = parts.pop()!;
  const hypothesisId = parts.pop();
  const dir = parts.join("/");
  const n = parseRecordFile(file);
  if (!n || !hypothesisId) return "deno task run <id> ... --force";
  const variant = n.variant === undefined
    ? []
    : n.variant.includes("=")
    ? n.variant.split("+").map((o) => `--set ${o}`)
    : ["<its --set/--corpus flags>"];
  return [
    `deno task run ${hypothesisId} --tier ${n.tier} --seed ${n.seed}`,
    `--backend ${n.backend}`,
    ...(n.steps === undefined ? [] : [`--steps ${n.steps}`]),
    ...variant,
    ...(dir === RECORDS_DIR.replace(/\/$/, "") ? [] : [`--out ${dir}`]),
    "--force",
  ].join(" ");
}

/**
 * `e` with the command that re-creates its record: for a record that must
 * not be used nor silently replaced (a committed one).
 */
export function refusal(e: RecordError): RecordError {
  // A legacy record is converted, not re-created: its error says how.
  if (e instanceof LegacyRecordError) return e;
  return new RecordError(
    e.path,
    `${e.problem}; re-create it with: ${recreateCommand(e.path)}`,
  );
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
  /**
   * Set for a variant run (overrides or another corpus): its sweep point in
   * words, or a short hash ({@link recordVariant}).
   */
  readonly variant?: string;
}

/** Longest sweep point written in words; a longer one is named by a hash. */
export const MAX_POINT_WORDS = 100;

/** What a sweep point's words may hold, besides the `+` between overrides. */
const WORD_SAFE = /^[A-Za-z0-9._=-]+$/;

/**
 * A number as hypothesis files write it: exponent form below 1e-3 and from
 * 1e6 up, without `+` (`1e-6`, `3e-5`, `1e21`), else plain (`0.001`, `3`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberWords } from "./records.ts";
 * assert.equal(numberWords(0.000001), "1e-6");
 * assert.equal(numberWords(0.001), "0.001");
 * assert.equal(numberWords(1e21), "1e21");
 * ```
 */
export function numberWords(x: number): string {
  const a = Math.abs(x);
  return x !== 0 && (a < 1e-3 || a >= 1e6)
    ? x.toExponential().replace("e+", "e")
    : String(x);
}

/**
 * A sweep point (its overrides, in order) in words for a file name:
 * `path=value` joined by `+`, numbers as {@link numberWords} writes them.
 * Undefined when it has no overrides, when a character falls outside
 * `[A-Za-z0-9._=-]` or when it is longer than {@link MAX_POINT_WORDS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOverride } from "../hypothesis/overrides.ts";
 * import { pointWords } from "./records.ts";
 * assert.equal(pointWords([parseOverride("noise.scale=0.000001")]), "noise.scale=1e-6");
 * assert.equal(
 *   pointWords(["noise.scale=3e-5", "model.norm=rmsnorm"].map(parseOverride)),
 *   "noise.scale=3e-5+model.norm=rmsnorm",
 * );
 * ```
 */
export function pointWords(overrides: readonly Override[]): string | undefined {
  const words = overrides.map((o) =>
    `${o.path}=${
      typeof o.value === "number" ? numberWords(o.value) : String(o.value)
    }`
  );
  const text = words.join("+");
  return words.length > 0 && words.every((w) => WORD_SAFE.test(w)) &&
      text.length <= MAX_POINT_WORDS
    ? text
    : undefined;
}

/** The corpus of a run, as far as its record's name depends on it. */
export interface NamedCorpus {
  /** Whether it is the default corpus (every hypothesis's own). */
  readonly isDefault: boolean;
  /** Lower-case hex SHA-256 of its filtered bytes. */
  readonly sha256: string;
}

/**
 * The variant part of a record's name: undefined for an unmodified run on
 * the default corpus; the sweep point in words ({@link pointWords}) for
 * overrides on the default corpus; else the first 8 hex digits of the
 * SHA-256 of the override texts and the corpus digest (see the module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOverride } from "../hypothesis/overrides.ts";
 * import { recordVariant } from "./records.ts";
 * const brown = { isDefault: true, sha256: "ab".repeat(32) };
 * assert.equal(await recordVariant([], brown), undefined);
 * assert.equal(
 *   await recordVariant([parseOverride("noise.scale=1e-6")], brown),
 *   "noise.scale=1e-6",
 * );
 * assert.match(
 *   (await recordVariant([], { ...brown, isDefault: false }))!,
 *   /^[0-9a-f]{8}$/,
 * );
 * ```
 */
export async function recordVariant(
  overrides: readonly Override[],
  corpus: NamedCorpus,
): Promise<string | undefined> {
  if (corpus.isDefault) {
    if (overrides.length === 0) return undefined;
    const words = pointWords(overrides);
    if (words !== undefined) return words;
  }
  return (await sha256Json({
    overrides: overrides.map(overrideText),
    corpus: corpus.sha256,
  })).slice(0, 8);
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
 * Matches a record's file name: tier, seed, backend, the step count of a
 * shortened run, and the variant (8 hex digits, or words: a dotted path, so
 * a letter first, and a `=`; never `<N>steps`).
 */
const RECORD_FILE =
  /^(smoke|full)-seed(\d+)-(cpu|wasm|webgpu)(?:-(\d+)steps)?(?:-([0-9a-f]{8}|[A-Za-z][A-Za-z0-9.]*=[A-Za-z0-9._=+-]*))?\.json$/;

/**
 * What a record's file name says (all of {@link RecordName} but the
 * hypothesis, which is its directory), or null for any other file: the
 * inverse of {@link recordStem}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRecordFile } from "./records.ts";
 * assert.deepEqual(parseRecordFile("full-seed1-cpu-10000steps-noise.scale=1e-6.json"), {
 *   tier: "full",
 *   seed: 1,
 *   backend: "cpu",
 *   steps: 10000,
 *   variant: "noise.scale=1e-6",
 * });
 * assert.equal(parseRecordFile("outcomes.json"), null);
 * ```
 */
export function parseRecordFile(
  file: string,
): Omit<RecordName, "hypothesisId"> | null {
  const m = RECORD_FILE.exec(file);
  if (!m) return null;
  return {
    tier: m[1] as Tier,
    seed: Number(m[2]),
    backend: m[3] as BackendName,
    ...(m[4] === undefined ? {} : { steps: Number(m[4]) }),
    ...(m[5] === undefined ? {} : { variant: m[5] }),
  };
}

/**
 * The variant a record's file name must carry, from its overrides and
 * corpus (as {@link recordVariant} names the run that wrote it).
 */
export async function variantOfRecord(
  r: RunRecord,
  path: string,
): Promise<string | undefined> {
  let overrides: Override[];
  try {
    overrides = r.overrides.map(parseOverride);
  } catch (e) {
    throw new RecordError(path, `overrides: ${(e as Error).message}`);
  }
  return await recordVariant(overrides, {
    isDefault: r.corpus.path === DEFAULT_CORPUS_PATH,
    sha256: r.corpus.sha256,
  });
}

/**
 * Parses a record's whole JSON (its arrays inline: a queue job's return
 * value, a run event), checking every field a report or gate reads. Throws
 * a {@link RecordError} naming `path`. Record files are read with
 * {@link readRecord}.
 */
export function parseRecord(text: string, path: string): RunRecord {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch (e) {
    throw new RecordError(path, `not JSON (${(e as Error).message})`);
  }
  return checkRecord(r, path);
}

/**
 * `r` as a record of format `format` (default the current one), every field
 * a report or gate reads checked and the record checked against itself
 * (`record_checks.ts`). Throws a {@link RecordError} naming `path`.
 */
export function checkRecord(
  value: unknown,
  path: string,
  format: number = RECORD_FORMAT,
): RunRecord {
  const r = value as Record<string, unknown>;
  const fail = (problem: string): never => {
    throw new RecordError(path, problem);
  };
  if (r === null || typeof r !== "object" || Array.isArray(r)) {
    fail("not a JSON object");
  }
  if (r.format !== format) {
    fail(`format ${JSON.stringify(r.format)}, expected ${format} (re-run it)`);
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
  const model = obj(obj(r.config, "config").model, "config.model");
  int(model.vocabSize, "config.model.vocabSize");
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
  const problem = recordInconsistency(r as unknown as RunRecord);
  if (problem !== null) fail(problem);
  return r as unknown as RunRecord;
}

/**
 * Reads a record file and its arrays file (`record_file.ts`): null when the
 * record does not exist; throws {@link RecordError} when it exists but is
 * malformed, edited (its digest or arrays file's SHA-256 differs) or
 * contradicts itself, {@link LegacyRecordError} when it is in format 2.
 */
export async function readRecord(path: string): Promise<RunRecord | null> {
  const r = await readRecordObject(path);
  return r === null ? null : checkRecord(r, path);
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
      const n = parseRecordFile(e.name);
      // Whole-tier records only: a shortened (`--steps`) run is no sweep point.
      if (!e.isFile || !n || n.tier !== tier || n.steps !== undefined) continue;
      if (n.variant !== undefined && points.every((p) => p === "")) continue;
      const path = `${dir}/${hypothesisId}/${e.name}`;
      const r = (await readRecord(path).catch((e) => {
        throw e instanceof RecordError ? refusal(e) : e;
      }))!;
      if (
        r.hypothesisId !== hypothesisId || r.tier !== tier ||
        r.seed !== n.seed || r.backend !== n.backend
      ) {
        throw new RecordError(path, "its fields do not match its file name");
      }
      if (n.variant !== undefined && r.corpus.path !== DEFAULT_CORPUS_PATH) {
        continue;
      }
      // A record under another point's name (or an older naming) would be
      // found by no run of its own point: say so rather than report it.
      const variant = await variantOfRecord(r, path);
      if (variant !== n.variant) {
        throw new RecordError(
          path,
          `its file name says variant ${
            n.variant ?? "(none)"
          }, its overrides make it ${
            variant ?? "(none)"
          } (deno task rekey --rename renames records)`,
        );
      }
      if (!points.includes(r.overrides.join(" "))) continue;
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
