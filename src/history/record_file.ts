/**
 * A run record on disk (format 3): `<stem>.json`, small and readable (config,
 * outcome, final C/P and clusters, provenance), and beside it
 * `<stem>.safetensors.gz`, the per-step arrays (`record_arrays.ts`): losses,
 * gradient norms and the trajectory's steps, C, P and centroid norms.
 *
 * Every record proves its own content. The JSON carries `arrays` (the size
 * and SHA-256 of the arrays file) and `digest`: the SHA-256 of the canonical
 * JSON (`canonicalJson`: keys sorted, no spaces) of everything else in it.
 * A reader checks both before it decodes anything, so an edited value (a
 * loss, final C) or a swapped arrays file is an error naming the file, never
 * a number read. The JSON is written last (each file atomically): a record
 * whose JSON is there has its arrays file.
 *
 * A run's record is checked for consistency (`record_checks.ts`) before it
 * is written (`run/record_write.ts` refuses one that contradicts itself,
 * such as a run finished from a checkpoint its key holder edited) as when it
 * is read.
 *
 * Threat model: the digests catch corruption and hand edits, but a record
 * re-sealed by its editor (the digests recomputed, which needs no key) is
 * caught only by re-running it: `deno task reproduce` re-runs every smoke
 * record and checks it bit for bit.
 *
 * A record of format 2 (arrays inline) is not read as one: it is a
 * {@link LegacyRecordError} naming the command that converts it
 * (`tools/records/migrate.ts`); {@link readRecordObject} with
 * `legacy: true` returns it as it is, for the tools that convert or re-key.
 *
 * @module
 */

import { writeFileAtomic, writeTextAtomic } from "../io/atomic.ts";
import { readFileOrNull } from "../io/read_or_null.ts";
import { RECORD_FORMAT, type RunRecord } from "../hypothesis/types.ts";
import { sha256Hex, sha256Json } from "../step/config.ts";
import { type ArrayKind, decodeArrays, encodeArrays } from "./record_arrays.ts";
import { LegacyRecordError, RecordError } from "./record_error.ts";

/** The arrays a record keeps in its arrays file: name (path in the record), kind. */
const ARRAY_FIELDS: readonly (readonly [string, ArrayKind])[] = [
  ["loss", "float"],
  ["gradNorm", "float"],
  ["trajectory.step", "count"],
  ["trajectory.C", "count"],
  ["trajectory.P", "count"],
  ["trajectory.centroidNorm", "float"],
];

/** A record as JSON parses it: fields not yet checked. */
type Fields = Record<string, unknown>;

/**
 * The arrays file of the record at `path` (`x.json` -> `x.safetensors.gz`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arraysPath } from "./record_file.ts";
 * assert.equal(arraysPath("d/h/full-seed1-cpu.json"), "d/h/full-seed1-cpu.safetensors.gz");
 * ```
 */
export function arraysPath(path: string): string {
  return path.replace(/\.json$/, "") + ".safetensors.gz";
}

/** The object holding the array at dotted `name`, and its last key. */
function slot(r: Fields, name: string): [Fields, string] {
  const keys = name.split(".");
  let at = r;
  for (const k of keys.slice(0, -1)) at = (at?.[k] ?? null) as Fields;
  return [at, keys.at(-1)!];
}

/** The JSON text of a record file: one key per line, short values inline. */
function recordText(v: unknown, indent = ""): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  const inline = (x: unknown): string =>
    x !== null && typeof x === "object"
      ? Array.isArray(x)
        ? `[${x.map(inline).join(", ")}]`
        : `{${
          Object.entries(x).filter(([, y]) => y !== undefined)
            .map(([k, y]) => `${JSON.stringify(k)}: ${inline(y)}`).join(", ")
        }}`
      : JSON.stringify(x) ?? "null";
  const flat = inline(v);
  const scalars = Array.isArray(v) &&
    v.every((x) => x === null || typeof x !== "object");
  if (scalars || indent.length + flat.length <= 80) return flat;
  const inner = indent + "  ";
  const lines = Array.isArray(v)
    ? v.map((x) => inner + recordText(x, inner))
    : Object.entries(v).filter(([, y]) => y !== undefined)
      .map(([k, y]) => `${inner}${JSON.stringify(k)}: ${recordText(y, inner)}`);
  const [open, close] = Array.isArray(v) ? ["[", "]"] : ["{", "}"];
  return `${open}\n${lines.join(",\n")}\n${indent}${close}`;
}

/**
 * The two files of `record`: the JSON text (with its `arrays` and `digest`,
 * see the module doc) and the arrays file's bytes. Throws when the record
 * lacks one of its arrays.
 */
export async function encodeRecord(
  record: RunRecord,
): Promise<{ text: string; arrays: Uint8Array }> {
  const r = structuredClone(record) as unknown as Fields;
  const arrays = encodeArrays(ARRAY_FIELDS.map(([name, kind]) => {
    const [at, key] = slot(r, name);
    const values = at?.[key];
    if (!Array.isArray(values) || values.some((x) => typeof x !== "number")) {
      throw new Error(`the record has no list of numbers at ${name}`);
    }
    delete at[key];
    return { name, kind, values };
  }));
  r.arrays = { bytes: arrays.length, sha256: await sha256Hex(arrays) };
  // Sealed as the file will read back (JSON writes NaN as null).
  const fields = JSON.parse(JSON.stringify(r));
  const digest = await sha256Json(fields);
  return { text: recordText({ ...fields, digest }) + "\n", arrays };
}

/**
 * Writes `record` to `path` (JSON) and its arrays file beside it, each
 * atomically, the arrays first; creates the directory. It writes what it is
 * given (tests forge inconsistent records with it); a run's record goes
 * through `run/record_write.ts`, which checks it first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRecordObject, writeRecordFiles } from "./record_file.ts";
 * import { makeRun } from "../testing/records.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeRecordFiles(`${dir}/h/smoke-seed42-cpu.json`, makeRun());
 *   const back = await readRecordObject(`${dir}/h/smoke-seed42-cpu.json`);
 *   assert.deepEqual(back, makeRun());
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeRecordFiles(
  path: string,
  record: RunRecord,
): Promise<void> {
  const { text, arrays } = await encodeRecord(record);
  await writeFileAtomic(arraysPath(path), arrays, { createDirs: true });
  await writeTextAtomic(path, text, { createDirs: true });
}

/** The JSON object of a record file (null: no file), or a RecordError. */
async function readFields(path: string): Promise<Fields | null> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readFileOrNull(path);
  } catch (e) {
    throw new RecordError(path, (e as Error).message);
  }
  if (bytes === null) return null;
  let r: unknown;
  try {
    r = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new RecordError(path, `not JSON (${(e as Error).message})`);
  }
  if (r === null || typeof r !== "object" || Array.isArray(r)) {
    throw new RecordError(path, "not a JSON object");
  }
  return r as Fields;
}

/**
 * The record at `path` with its arrays in place (fields in the order the
 * runner writes them), its `digest` and arrays file checked; its fields are
 * not checked (`parseRecord` does that). Null when there is no file. A
 * format-2 record (arrays inline) is a {@link LegacyRecordError}, or, with
 * `legacy`, returned as it is (format 1 too).
 */
export async function readRecordObject(
  path: string,
  options: { readonly legacy?: boolean } = {},
): Promise<Fields | null> {
  const r = await readFields(path);
  if (r === null) return null;
  const fail = (problem: string): never => {
    throw new RecordError(path, problem);
  };
  if (typeof r.format === "number" && r.format < RECORD_FORMAT) {
    if (options.legacy) return r;
    if (r.format === 2) throw new LegacyRecordError(path, 2);
  }
  if (r.format !== RECORD_FORMAT) {
    fail(`format ${JSON.stringify(r.format)}, expected ${RECORD_FORMAT}`);
  }
  const { digest, ...fields } = r;
  // JSON.parse reads 1e400 as Infinity, which has no canonical form.
  const sealed = await sha256Json(fields).catch(() => null);
  if (digest !== sealed) {
    fail("its content does not match its digest (edited or damaged)");
  }
  const d = fields.arrays as Fields | undefined;
  if (
    d === null || typeof d !== "object" || !Number.isSafeInteger(d.bytes) ||
    typeof d.sha256 !== "string"
  ) {
    fail("arrays is not {bytes, sha256}");
  }
  delete fields.arrays;
  const file = arraysPath(path);
  const name = file.split("/").pop();
  const bytes = await readFileOrNull(file).catch((e) =>
    fail(`its arrays file ${name}: ${(e as Error).message}`)
  );
  if (bytes === null) fail(`its arrays file ${name} is missing`);
  const refuse = (why: string) =>
    fail(
      `its arrays file ${name} is not the one it was written with (${why}; edited or damaged)`,
    );
  if (bytes!.length !== d!.bytes) {
    refuse(`${bytes!.length} bytes, the record says ${d!.bytes}`);
  }
  if (await sha256Hex(bytes!) !== d!.sha256) refuse("its SHA-256 differs");
  return withArrays(fields, decodeIn(bytes!, fields, file, fail));
}

/** The arrays file's arrays, each one the record needs there. */
function decodeIn(
  bytes: Uint8Array,
  r: Fields,
  file: string,
  fail: (problem: string) => never,
): Map<string, number[]> {
  const name = file.split("/").pop();
  const steps = Number.isSafeInteger(r.steps) ? r.steps as number : 1 << 20;
  let arrays: Map<string, number[]>;
  try {
    // Six arrays of at most steps + 1 values of 8 bytes, and a header.
    arrays = decodeArrays(bytes, file, 48 * (steps + 1) + (1 << 16));
  } catch (e) {
    return fail(`its arrays file ${name}: ${(e as Error).message}`);
  }
  for (const [field] of ARRAY_FIELDS) {
    const [at, key] = slot(r, field);
    if (at !== null && typeof at === "object" && key in at) {
      fail(`${field} is in the JSON; it belongs in its arrays file`);
    }
    if (!arrays.has(field)) fail(`its arrays file ${name} has no ${field}`);
  }
  return arrays;
}

/** `r` with the arrays put back where the runner writes them. */
function withArrays(r: Fields, arrays: Map<string, number[]>): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === "trajectory") {
      out.loss = arrays.get("loss");
      out.gradNorm = arrays.get("gradNorm");
      const t: Fields = {};
      for (const [field] of ARRAY_FIELDS.slice(2)) {
        t[field.slice("trajectory.".length)] = arrays.get(field);
      }
      out.trajectory = v !== null && typeof v === "object" ? { ...t, ...v } : v;
    } else out[k] = v;
  }
  return out;
}

/**
 * Copies the record at `from` (JSON and arrays file, as they are) to `to`,
 * the arrays first, each atomically; creates the directory.
 */
export async function copyRecordFiles(from: string, to: string): Promise<void> {
  const arrays = await Deno.readFile(arraysPath(from));
  const json = await Deno.readFile(from);
  await writeFileAtomic(arraysPath(to), arrays, { createDirs: true });
  await writeFileAtomic(to, json, { createDirs: true });
}

/**
 * Moves the record at `from` to `to` (same file system), the arrays file
 * first; a failed JSON move puts the arrays file back.
 */
export async function renameRecordFiles(
  from: string,
  to: string,
): Promise<void> {
  await Deno.rename(arraysPath(from), arraysPath(to));
  try {
    await Deno.rename(from, to);
  } catch (e) {
    await Deno.rename(arraysPath(to), arraysPath(from));
    throw e;
  }
}

/** Removes the record at `path`, the JSON first (never JSON without arrays). */
export async function removeRecordFiles(path: string): Promise<void> {
  await Deno.remove(path);
  await Deno.remove(arraysPath(path)).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
