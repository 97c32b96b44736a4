/**
 * `deno task rekey [ids...]`: re-keys committed run records after a change
 * that alters run keys but must not alter numbers (a new record format, a
 * graph refactor), and only after proving that it did not.
 *
 * For every hypothesis and backend with committed records, the smoke tier is
 * re-run from scratch and must reproduce the committed smoke record bit for
 * bit: every per-step loss and gradient norm, the final embedding's SHA-256,
 * C, P and populations. Only then are that backend's records (smoke and
 * full: the smoke run is an exact prefix of the full one) rewritten under the
 * current run key and record format, keeping their measured numbers,
 * trajectories and timestamps. Reads record format 1 (source-fingerprint
 * keys), 2 (arrays inline) and 3 (digests checked), and writes format 3.
 *
 * Sweep points (records with `--set` overrides), smoke records of another
 * length (`-<N>steps`, from `run --steps N`) and full records of seeds that
 * have no smoke record are each verified by re-running their first 300 steps
 * (the whole run when shorter) with their overrides, every loss and gradient
 * norm bit-identical to the record's, and then re-keyed the same way.
 *
 * A diverged record (status `diverged`, no final numbers, verdict `invalid`)
 * is verified the same way: the re-run must give the same losses and
 * gradient norms and, where the record diverged within the steps re-run,
 * diverge at the same step in the same quantity; it stays a diverged record
 * under the new key.
 *
 * `--rename` changes no record: it moves records whose key is current to
 * the file names the code gives their runs today (see `rename.ts`).
 *
 * @module
 */

import { selectHypotheses } from "../../src/cli/hypothesis_args.ts";
import { parseCliArgs, runCli } from "../../src/cli/errors.ts";
import { parseOverride } from "../../src/hypothesis/overrides.ts";
import { recordPath } from "../../src/history/records.ts";
import {
  readRecordObject,
  removeRecordFiles,
  writeRecordFiles,
} from "../../src/history/record_file.ts";
import { RECORDS_DIR } from "../../src/history/locations.ts";
import { type PreparedRun, prepareRun } from "../../src/run/prepare.ts";
import { runHypothesis } from "../../src/run/run.ts";
import { renameRecords } from "./rename.ts";
import {
  type Hypothesis,
  RECORD_FORMAT,
  type RunRecord,
  type Tier,
} from "../../src/hypothesis/types.ts";
import type { BackendName } from "../../src/runtime/engine.ts";
import {
  DivergedError,
  type Divergence,
} from "../../src/runtime/divergence.ts";
import { canonicalJson } from "../../src/step/config.ts";

/** Any committed record, format 1, 2 or 3, read loosely. */
// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

/**
 * A record's file name: format 1 had no backend; a run of other than the
 * tier's length says `-<N>steps` (the committed 10,000-step 11.2f runs); a
 * sweep point is named by a hash (before issue 18) or in words
 * (`-noise.scale=1e-6`).
 */
const STEM =
  /^(smoke|full)-seed(\d+)(?:-(cpu|wasm|webgpu))?(?:-(\d+)steps)?(?:-(?:[0-9a-f]{8}|[A-Za-z][A-Za-z0-9.]*=[A-Za-z0-9._=+-]*))?\.json$/;

/** Steps re-run to verify a sweep point's record. */
const VARIANT_PREFIX = 300;

/** A committed record file, read loosely, and its tier. */
interface Committed {
  readonly path: string;
  readonly record: AnyRecord;
  readonly tier: Tier;
  /** The step count its name states (`-<N>steps`), if any. */
  readonly steps?: number;
}

async function committed(dir: string, h: Hypothesis): Promise<Committed[]> {
  const found: Committed[] = [];
  for await (const e of Deno.readDir(`${dir}/${h.id}`)) {
    const m = STEM.exec(e.name);
    if (!m) continue;
    const path = `${dir}/${h.id}/${e.name}`;
    found.push({
      path,
      record: (await readRecordObject(path, { legacy: true }))!,
      tier: m[1] as Tier,
      ...(m[4] === undefined ? {} : { steps: Number(m[4]) }),
    });
  }
  return found;
}

/** What a re-run produced: a record's numbers, or those a divergence carried. */
interface Fresh {
  readonly loss: ArrayLike<number>;
  readonly gradNorm: ArrayLike<number>;
  readonly final: RunRecord["final"];
  readonly divergence: Divergence | null;
}

/** Runs `h` as `options` say; a divergence is a result here, not an error. */
async function rerun(
  h: Hypothesis,
  options: Parameters<typeof runHypothesis>[1],
): Promise<Fresh> {
  try {
    return await runHypothesis(h, options);
  } catch (e) {
    if (!(e instanceof DivergedError)) throw e;
    return {
      loss: e.losses,
      gradNorm: e.gradNorms,
      final: null,
      divergence: e.divergence,
    };
  }
}

/** How the re-run's divergence differs from the record's, if it does. */
function sameDivergence(a: AnyRecord, b: Fresh): string | null {
  const was = (a.divergence as Divergence | null) ?? null;
  const now = b.divergence;
  if (!was && !now) return null;
  if (!was) return `divergence (the re-run diverged at step ${now!.step})`;
  if (!now) return `divergence (the record diverged at step ${was.step})`;
  return was.step === now.step && was.quantity === now.quantity
    ? null
    : `divergence (step ${was.step} ${was.quantity}, re-run step ${now.step} ${now.quantity})`;
}

/**
 * The first differing step of the fresh run's losses or gradient norms.
 * Values are compared with Object.is: a diverged run's last loss or norm may
 * be NaN, which a re-run reproduces but `!==` never accepts.
 */
function samePrefix(a: AnyRecord, b: Fresh): string | null {
  for (let i = 0; i < b.loss.length; i++) {
    if (!Object.is(a.loss[i], b.loss[i])) return `loss at step ${i + 1}`;
    if (!Object.is(a.gradNorm[i], b.gradNorm[i])) {
      return `gradient norm at step ${i + 1}`;
    }
  }
  return null;
}

function sameNumbers(a: AnyRecord, b: Fresh): string | null {
  const diverged = sameDivergence(a, b);
  if (diverged) return diverged;
  if (a.loss.length !== b.loss.length) return "number of steps";
  const differs = samePrefix(a, b);
  if (differs || a.divergence) return differs;
  const f = b.final!;
  if (a.final.embeddingSha256 !== f.embeddingSha256) return "final embedding";
  if (a.final.C !== f.C || a.final.P !== f.P) return "C/P";
  const pa = a.final.clusters.map((c: AnyRecord) => c.population).join("/");
  const pb = f.clusters.map((c) => c.population).join("/");
  return pa === pb ? null : "populations";
}

/** One backend's records of a hypothesis being re-keyed, under `dir`. */
interface Rekeying {
  readonly dir: string;
  readonly h: Hypothesis;
  readonly backend: BackendName;
}

const overridesOf = (r: AnyRecord): string[] => r.overrides ?? [];

/** The run a committed record is of. */
function runOf(job: Rekeying, r: Committed) {
  return {
    tier: r.tier,
    seed: r.record.seed as number,
    backend: job.backend,
    overrides: overridesOf(r.record).map(parseOverride),
    ...(r.steps === undefined ? {} : { steps: r.steps }),
  };
}

/**
 * Re-runs each smoke record from scratch; throws at the first whose numbers
 * differ. Returns the seeds verified.
 */
async function verifySmokes(
  job: Rekeying,
  smokes: readonly Committed[],
): Promise<Set<number>> {
  const { h, backend } = job;
  const verifiedSeeds = new Set<number>();
  for (const s of smokes) {
    const fresh = await rerun(h, {
      tier: "smoke",
      seed: s.record.seed,
      backend,
      useCache: false,
      saveRecord: false,
      writeHistory: false,
    });
    const diff = sameNumbers(s.record, fresh);
    if (diff) {
      throw new Error(
        `${h.id} smoke seed ${s.record.seed} (${backend}): ${diff} differs from ${s.path}; not re-keying`,
      );
    }
    verifiedSeeds.add(s.record.seed);
    const end = fresh.final
      ? `embedding ${fresh.final.embeddingSha256.slice(0, 12)}`
      : `diverged at step ${fresh.divergence!.step}`;
    console.log(
      `${h.id} smoke seed ${s.record.seed} ${backend}: bit-identical (${fresh.loss.length} losses, ${end})`,
    );
  }
  return verifiedSeeds;
}

/**
 * Re-runs the first {@link VARIANT_PREFIX} steps of each record with its
 * overrides; throws at the first whose losses or gradient norms differ.
 */
async function verifyVariants(
  job: Rekeying,
  variants: readonly Committed[],
): Promise<void> {
  const { h, backend } = job;
  for (const r of variants) {
    const old = r.record;
    const fresh = await rerun(h, {
      ...runOf(job, r),
      steps: Math.min(VARIANT_PREFIX, old.steps),
      useCache: false,
      saveRecord: false,
      writeHistory: false,
    });
    // A record that diverged within the prefix must diverge there again.
    const reached = old.loss.length <= fresh.loss.length || fresh.divergence;
    const diff = (reached ? sameDivergence(old, fresh) : null) ??
      samePrefix(old, fresh);
    if (diff) {
      throw new Error(
        `${h.id} ${r.tier} seed ${old.seed} (${backend}) [${
          overridesOf(old).join(" ")
        }]: ${diff} differs from ${r.path}; not re-keying`,
      );
    }
    console.log(
      `${h.id} seed ${old.seed} ${backend} [${
        overridesOf(old).join(" ")
      }]: first ${fresh.loss.length} steps bit-identical`,
    );
  }
}

/**
 * The verified record `r` in today's format under today's key: its
 * measured numbers, trajectories and timestamps kept.
 */
function migrated(
  job: Rekeying,
  r: Committed,
  prepared: PreparedRun,
): RunRecord {
  const old = r.record;
  // Field order as the runner writes records (record_write.ts), so a re-key
  // that changes nothing rewrites nothing.
  return {
    format: RECORD_FORMAT,
    hypothesisId: job.h.id,
    tier: r.tier,
    seed: old.seed,
    steps: old.steps,
    backend: job.backend,
    key: prepared.key,
    identity: prepared.identity,
    overrides: prepared.overrides,
    config: prepared.config,
    corpus: old.corpus,
    // Format 1 kept the thread count only in the engine description.
    threads: old.threads ??
      (Number(/\((\d+) threads\)/.exec(old.engine ?? "")?.[1]) || null),
    versions: {
      deno: old.versions.deno,
      onnxruntime: prepared.identity.onnxruntime,
    },
    status: old.status ?? "complete",
    engine: old.engine,
    backendReason: old.backendReason,
    wallMs: old.wallMs,
    loss: old.loss,
    gradNorm: old.gradNorm,
    trajectory: old.trajectory,
    final: old.final && { ...old.final, nonFinite: old.final.nonFinite ?? [] },
    divergence: old.divergence ?? null,
    verdict: old.verdict,
    history: old.format >= 2 ? old.history : null,
    finishedAt: old.finishedAt,
  };
}

/**
 * Rewrites a verified record under the current key, record format and file
 * name; throws when its config or steps are no longer the hypothesis's.
 */
async function rewrite(job: Rekeying, r: Committed): Promise<void> {
  const { dir, h } = job;
  const old = r.record;
  const prepared = await prepareRun(h, { ...runOf(job, r), recordsDir: dir });
  const record = migrated(job, r, prepared);
  if (canonicalJson(old.config) !== canonicalJson(prepared.config)) {
    throw new Error(`${r.path}: its config differs from the hypothesis's`);
  }
  if (old.steps !== prepared.steps) {
    throw new Error(
      `${r.path}: ${old.steps} steps, the tier has ${prepared.steps}`,
    );
  }
  const target = recordPath(dir, prepared.name);
  await writeRecordFiles(target, record);
  if (target !== r.path) await removeRecordFiles(r.path);
  console.log(`${r.path} -> ${target} (key ${prepared.key.slice(0, 12)})`);
}

/**
 * Verifies and re-keys every record of `h` under `dir` (see the module doc);
 * throws, rewriting nothing of that backend, when a re-run differs.
 */
export async function rekey(dir: string, h: Hypothesis): Promise<void> {
  const records = await committed(dir, h);
  const backends = new Set<BackendName>(
    records.map((r) => r.record.backend as BackendName),
  );
  for (const backend of backends) {
    const job = { dir, h, backend };
    const all = records.filter((r) => r.record.backend === backend);
    const mine = all.filter((r) => overridesOf(r.record).length === 0);
    // A smoke record named -<N>steps (`run --steps N`) is not the tier's run,
    // so re-running the tier cannot reproduce it.
    const shorter = (r: Committed) =>
      r.tier === "smoke" && r.steps !== undefined;
    const verifiedSeeds = await verifySmokes(
      job,
      mine.filter((r) => r.tier === "smoke" && !shorter(r)),
    );
    // Sweep points, such shorter runs, and full runs of seeds with no smoke
    // record (a replicate run at the full tier only), are verified by their
    // first steps.
    const variants = all.filter((r) =>
      overridesOf(r.record).length > 0 || shorter(r) ||
      (r.tier === "full" && !verifiedSeeds.has(r.record.seed))
    );
    await verifyVariants(job, variants);
    for (const r of new Set([...mine, ...variants])) {
      if (
        overridesOf(r.record).length === 0 &&
        !verifiedSeeds.has(r.record.seed) && !variants.includes(r)
      ) {
        throw new Error(
          `${h.id} ${r.tier} seed ${r.record.seed} (${backend}): no smoke record to verify against`,
        );
      }
      await rewrite(job, r);
    }
  }
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(args, {
    rename: { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(
      "Usage: deno task rekey [ids...]            (see tools/records/rekey.ts)\n" +
        "       deno task rekey --rename [ids...]   move records to today's names (see tools/records/rename.ts)",
    );
    return 0;
  }
  const selected = selectHypotheses(positionals);
  for (const h of selected) {
    if (!values.rename) {
      await rekey(RECORDS_DIR, h);
      continue;
    }
    for (const { from, to } of await renameRecords(RECORDS_DIR, h)) {
      console.log(`${from} -> ${to}`);
    }
  }
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
