/**
 * The runs a hypothesis asks for: every replicate seed at every sweep point,
 * each identified by its run key. A sweep and its replicates are just this
 * list; executing it (a local pool, a queue, a CI shard) skips every run
 * whose record already exists with the same key.
 *
 * @module
 */

import { type BackendName, REPLICATES_MATCH_SOLO } from "../runtime/engine.ts";
import { canonicalJson, stepConfigOf } from "../step/config.ts";
import { overrideText, parseOverride } from "../hypothesis/overrides.ts";
import { pointLabel, replicateSeeds, sweepPoints } from "../hypothesis/grid.ts";
import { readRecord, RecordError } from "../history/records.ts";
import { CACHE_DIR, RECORDS_DIR } from "../history/locations.ts";
import { adoptKeptRecord, keptRecordPath } from "../history/kept_records.ts";
import { pathExists } from "../io/path_exists.ts";
import { type PreparedRun, prepareRun } from "../run/prepare.ts";
import type { Hypothesis, RunRecord, Tier } from "../hypothesis/types.ts";

/** What one run of a plan is: enough to execute it anywhere. */
export interface RunSpec {
  readonly hypothesisId: string;
  readonly tier: Tier;
  readonly seed: number;
  /** Override texts (`path=value`) of the sweep point. */
  readonly overrides: readonly string[];
  readonly backend: BackendName;
  /** The run key it must produce (a worker checks it before training). */
  readonly key: string;
  /**
   * Runs trained together with it as replicates of one graph (absent: 1);
   * {@link RunSpec.key} is computed with it, which changes the key only on
   * backends outside `REPLICATES_MATCH_SOLO`.
   */
  readonly replicas?: number;
}

/**
 * Whether `data` (a queue job's data, a field of a JSON line) is a
 * {@link RunSpec}: a shared queue or a pipe may carry anything.
 */
export function isRunSpec(data: unknown): data is RunSpec {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return false;
  }
  const d = new Map<string, unknown>(Object.entries(data));
  const replicas = d.get("replicas"), overrides = d.get("overrides");
  const key = d.get("key"), tier = d.get("tier");
  return typeof d.get("hypothesisId") === "string" &&
    (tier === "smoke" || tier === "full") &&
    Number.isSafeInteger(d.get("seed")) &&
    Array.isArray(overrides) &&
    overrides.every((o) => typeof o === "string") &&
    typeof d.get("backend") === "string" &&
    typeof key === "string" && /^[0-9a-f]{64}$/.test(key) &&
    (replicas === undefined ||
      (typeof replicas === "number" && Number.isSafeInteger(replicas) &&
        replicas >= 1));
}

/** One planned run, with whether a record of it exists already. */
export interface PlannedRun {
  readonly spec: RunSpec;
  readonly prepared: PreparedRun;
  /** Sweep point label (`""` without a sweep). */
  readonly point: string;
  /** The existing record with this key, if any. */
  readonly record: RunRecord | null;
  /**
   * No record of it here, but the cache keeps one of its key
   * (`history/kept_records.ts`: trained for another records folder sharing
   * the cache): {@link adoptKeptRuns} takes it instead of training.
   */
  readonly kept: boolean;
}

/** Options of {@link planRuns}. */
export interface PlanOptions {
  readonly tier: Tier;
  readonly backend: BackendName;
  /** Default: `reports/data` (sweep records are committed evidence too). */
  readonly recordsDir?: string;
  /** Only these seeds (default: every replicate seed). */
  readonly seeds?: readonly number[];
  /** Told about unusable existing records. */
  readonly onNote?: (note: string) => void;
  /** Where kept records are looked for (default: the project's cache). */
  readonly cacheDir?: string;
}

/**
 * Every run of a hypothesis at a tier: replicate seeds x sweep points, in a
 * deterministic order (point, then seed), each with its key and record.
 */
export async function planRuns(
  h: Hypothesis,
  options: PlanOptions,
): Promise<PlannedRun[]> {
  const recordsDir = options.recordsDir ?? RECORDS_DIR;
  const cacheDir = options.cacheDir ?? CACHE_DIR;
  const seeds = options.seeds ?? replicateSeeds(h);
  const plan: PlannedRun[] = [];
  for (const overrides of sweepPoints(h)) {
    for (const seed of seeds) {
      const runOptions = {
        tier: options.tier,
        seed,
        backend: options.backend,
        overrides,
        recordsDir,
      };
      let prepared = await prepareRun(h, runOptions);
      const read = async (file: string) => {
        try {
          return await readRecord(file);
        } catch (e) {
          if (!(e instanceof RecordError)) throw e;
          options.onNote?.(`${e.message}; it will be re-run`);
          return null;
        }
      };
      let record = await read(prepared.recordFile);
      // Where `run` looks too (prepare.ts recordFilesOf): the sweep point
      // that is the hypothesis's own config (11.2f at 3e-7) is the same run
      // as the unmodified one, recorded without a variant in its name.
      for (const other of prepared.recordFiles.slice(1)) {
        if (record?.key === prepared.key) break;
        const twin = await read(other);
        if (twin?.key === prepared.key) record = twin;
      }
      // A run packed on a backend whose replicates differ from solo runs
      // was keyed with its pack size: it is done when that key matches.
      const replicas = record?.identity.replicas;
      if (record && replicas !== undefined && replicas > 1) {
        const packed = await prepareRun(h, { ...runOptions, replicas });
        if (packed.key === record.key) prepared = packed;
      }
      if (record && record.key !== prepared.key) record = null;
      const kept = record === null &&
        !await pathExists(prepared.recordFile) &&
        (await keptRecordOf(prepared, cacheDir))?.key === prepared.key;
      plan.push({
        spec: {
          hypothesisId: h.id,
          tier: options.tier,
          seed,
          overrides: overrides.map(overrideText),
          backend: prepared.name.backend,
          key: prepared.key,
          ...(prepared.identity.replicas
            ? { replicas: prepared.identity.replicas }
            : {}),
        },
        prepared,
        point: pointLabel(overrides),
        record,
        kept,
      });
    }
  }
  return plan;
}

/** The cache's kept record of a run (any key), or null (none, unreadable). */
async function keptRecordOf(
  prepared: PreparedRun,
  cacheDir: string,
): Promise<RunRecord | null> {
  try {
    return await readRecord(keptRecordPath(cacheDir, prepared.name));
  } catch (e) {
    if (e instanceof RecordError) return null;
    throw e;
  }
}

/**
 * Takes into its records folder the kept record of each planned run marked
 * {@link PlannedRun.kept}, verified as a cached record is (its run key, its
 * digests, its whole history), and returns the plan with those runs
 * recorded and how many they are. A run whose kept record fails that is
 * left to train.
 */
export async function adoptKeptRuns(
  plan: readonly PlannedRun[],
  options: { readonly cacheDir?: string } = {},
): Promise<{ plan: PlannedRun[]; adopted: number }> {
  const cacheDir = options.cacheDir ?? CACHE_DIR;
  let adopted = 0;
  const out: PlannedRun[] = [];
  for (const p of plan) {
    const { recordFile, name, key } = p.prepared;
    if (p.kept && await adoptKeptRecord(recordFile, name, key, { cacheDir })) {
      adopted++;
      out.push({ ...p, record: await readRecord(recordFile), kept: false });
    } else out.push(p);
  }
  return { plan: out, adopted };
}

/**
 * Shard `i` of `n` (1-based) of a plan: runs are dealt round-robin by their
 * position in the deterministic plan, so shards are disjoint and cover it.
 */
export function shardOf<T>(plan: readonly T[], i: number, n: number): T[] {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(i) || i < 1 || i > n) {
    throw new RangeError(`shard must be i/n with 1 <= i <= n, got ${i}/${n}`);
  }
  return plan.filter((_, k) => k % n === i - 1);
}

/**
 * How many runs `deno task sweep` trains together as replicates of one
 * graph by default on `backend`:
 *
 * - 1 on cpu and wasm. Measured on a quiet 2-core machine: R = 8 and 32
 *   replicates in one graph gave 1.12x and 1.19x the replicate-steps/s of
 *   R = 1; the step is bound by arithmetic, not by per-op overhead, so
 *   packing buys little there, and a lone run finishes (and is recorded) R
 *   times sooner. `--pack` opts in.
 * - 8 on webgpu, where each step pays host-side dispatch overhead (hundreds
 *   of small kernels) that R replicates in one graph share.
 */
export function defaultPack(backend: BackendName): number {
  return backend === "webgpu" ? 8 : 1;
}

/** The same run, whatever its pack: hypothesis, tier, seed, point, backend. */
export function runIdOf(spec: RunSpec): string {
  return canonicalJson([
    spec.hypothesisId,
    spec.tier,
    spec.seed,
    spec.overrides,
    spec.backend,
  ]);
}

/**
 * Whether two specs are one run with one key: what a job reports of a run
 * is matched to the spec it was given this way (a packed spec's key may
 * name its pack, so the key alone does not say which run).
 */
export function sameRun(a: RunSpec, b: RunSpec): boolean {
  return a === b || (a.key === b.key && runIdOf(a) === runIdOf(b));
}

/**
 * The runs of `plan` still to do (no record), grouped into packs of up to
 * `pack` runs that can train as replicates of one graph: same backend,
 * tier, step graph and step count. Packs fill in plan order (a pack is
 * closed once full; a run joins the open pack of its graph), and are
 * listed in the order of their first run. On a backend outside
 * `REPLICATES_MATCH_SOLO` every member of a pack of R > 1 runs is
 * re-prepared with `replicas: R`, since its key names R there; elsewhere a
 * packed run keeps its solo key.
 */
export async function packRuns(
  plan: readonly PlannedRun[],
  pack: number,
): Promise<RunSpec[][]> {
  if (!Number.isInteger(pack) || pack < 1) {
    throw new RangeError(`pack must be an integer >= 1, got ${pack}`);
  }
  const packs: PlannedRun[][] = [];
  const open = new Map<string, PlannedRun[]>();
  for (const p of plan) {
    if (p.record !== null) continue;
    const group = canonicalJson({
      backend: p.spec.backend,
      tier: p.spec.tier,
      graph: stepConfigOf(p.prepared.config),
      steps: p.prepared.steps,
    });
    let members = open.get(group);
    if (!members || members.length >= pack) {
      members = [];
      packs.push(members);
      open.set(group, members);
    }
    members.push(p);
  }
  const out: RunSpec[][] = [];
  for (const members of packs) {
    const R = members.length;
    const specs: RunSpec[] = [];
    for (const { spec, prepared } of members) {
      // A run still to do was planned solo (planRuns keys a run by its
      // pack only when its record says so).
      if (R === 1) specs.push(spec);
      else if (REPLICATES_MATCH_SOLO.has(spec.backend)) {
        specs.push({ ...spec, replicas: R });
      } else {
        const packed = await prepareRun(prepared.hypothesis, {
          tier: spec.tier,
          seed: spec.seed,
          backend: spec.backend,
          overrides: spec.overrides.map(parseOverride),
          replicas: R,
        });
        specs.push({ ...spec, key: packed.key, replicas: R });
      }
    }
    out.push(specs);
  }
  return out;
}
