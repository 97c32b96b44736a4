/**
 * Runs a hypothesis: trains its configuration (a prefix of it at the smoke
 * tier), streams the embedding history to disk, analyses black holes along
 * the way and returns a {@link RunRecord}. Records are cached by their run
 * key (see `run_key.ts` and `run_cache.ts`), so an unchanged run is never
 * trained twice; a copy of each record with its history is kept in the cache
 * (`history/kept_records.ts`), so a run of the same key for another records
 * folder (a second checkout sharing the cache) adopts it instead of training.
 *
 * A run that diverges stops at that step: its record (status `diverged`,
 * verdict `invalid`) is kept so the run is not repeated, and a
 * {@link DivergedError} is thrown. A run given checkpoints resumes from the
 * last one and ends bit-identical to an uninterrupted run.
 *
 * {@link runPackedDetailed} trains several runs that share one step graph as
 * replicates of one graph (see runtime/trainer.ts `trainReplicates`); each
 * run keeps its own cache entry, history, checkpoints and record.
 *
 * One process trains a run at a time (`history/run_lock.ts`): a run that
 * another process is training waits for it, then answers from its record
 * (or resumes its checkpoint, should that process have been stopped). A run
 * whose outputs would not fit on disk (`space_needs.ts`) is refused before
 * it trains.
 *
 * @module
 */

import { dirname } from "node:path";
import { fileDigest } from "../io/file_digest.ts";
import type { SafetensorsStreamWriter } from "../io/safetensors/mod.ts";
import { DivergedError } from "../runtime/divergence.ts";
import { REPLICATES_MATCH_SOLO } from "../runtime/engine.ts";
import {
  type ReplicateHooks,
  train,
  type TrainerCheckpoint,
  trainReplicates,
  type TrainResult,
} from "../runtime/trainer.ts";
import { canonicalJson, stepConfigOf } from "../step/config.ts";
import { compileReplicatedStep } from "../step/replicated_step.ts";
import {
  CheckpointError,
  type CheckpointStore,
  decodeCheckpoint,
  encodeCheckpoint,
  type RunCheckpoint,
} from "../history/checkpoint.ts";
import { CACHE_DIR } from "../history/locations.ts";
import {
  type LockHolder,
  lockRun,
  type RunLock,
  runLockPath,
  tryLockRun,
  waitingLine,
} from "../history/run_lock.ts";
import { type PreparedRun, prepareRun } from "./prepare.ts";
import {
  completeRecord,
  divergedRecord,
  InconsistentRecordError,
  recordHeader,
  writeRecord,
} from "./record_write.ts";
import { HistoryDigest, verifyHistoryPrefix } from "./history_digest.ts";
import { RunAnalysis } from "./run_analysis.ts";
import { runSpaceNeeds } from "./space_needs.ts";
import { checkFreeSpace } from "../io/free_space.ts";
import { pathExists } from "../io/path_exists.ts";
import { cachedRecord } from "../history/run_cache.ts";
import { adoptKeptRecord, keepRecord } from "../history/kept_records.ts";
import { RecordError } from "../history/records.ts";
import {
  embeddingEncoding,
  openHistory,
  openNoiseTrace,
  runFiles,
  writeTrace,
} from "./run_files.ts";
import type { RunOptions } from "./run_options.ts";
import type { Hypothesis, RunRecord } from "../hypothesis/types.ts";

/** A run's record and whether it came from the cache. */
export interface RunOutcome {
  /** The run's record (fresh or cached). */
  readonly record: RunRecord;
  /** Whether the record came from the cache instead of training. */
  readonly cached: boolean;
  /** Where the record is (null when not saved). */
  readonly path: string | null;
  /**
   * Replicates of the graph this run trained in, itself and any ghosts
   * included (1: alone; 0: from the cache).
   */
  readonly replicas: number;
}

/** A run stopped before its last step (signal, parent gone): nothing recorded. */
export class RunStoppedError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "RunStoppedError";
  /** Number of steps completed before the stop. */
  readonly stepsRun: number;
  /**
   * Builds the error for a run stopped after `stepsRun` of `steps` steps, for
   * `reason`.
   */
  constructor(stepsRun: number, steps: number, reason: string) {
    super(
      `stopped after step ${stepsRun} of ${steps} (${reason}); nothing was recorded`,
    );
    this.stepsRun = stepsRun;
  }
}

/**
 * Runs (or fetches from cache) one replicate of a hypothesis at a tier;
 * see {@link runHypothesisDetailed} for whether it was cached.
 */
export async function runHypothesis(
  h: Hypothesis,
  options: RunOptions,
): Promise<RunRecord> {
  return (await runHypothesisDetailed(h, options)).record;
}

/** Runs (or fetches from cache) one replicate of a hypothesis at a tier. */
export async function runHypothesisDetailed(
  h: Hypothesis,
  options: RunOptions,
): Promise<RunOutcome> {
  const [run] = await runPackedDetailed([{ hypothesis: h, options }], {
    threads: options.threads,
    signal: options.signal,
  });
  if (!run.ok) throw run.error;
  return run.outcome;
}

/** How one run of {@link runPackedDetailed} ended. */
export type PackedOutcome =
  | { readonly ok: true; readonly outcome: RunOutcome }
  | { readonly ok: false; readonly error: unknown };

/** One run of a pack: a hypothesis and its run options. */
export interface PackedRun {
  /** The hypothesis to run. */
  readonly hypothesis: Hypothesis;
  /** Its options (tier, seed, overrides, backend, callbacks, checkpoints). */
  readonly options: RunOptions;
}

/**
 * Runs several runs as replicates of one graph where they can share one:
 * the same backend, step graph, step count, history interval, checkpoint
 * interval and resume step. Cached runs return at once; runs that fit no
 * other run's group train alone. Each run keeps its own record, history and
 * checkpoints, and a run that diverges fails alone. `shared` gives the
 * threads and the stop signal of the one session.
 *
 * On a backend outside `REPLICATES_MATCH_SOLO` a run's numbers depend on
 * the size of its graph, and its key names it (`options.replicas`, R): runs
 * group only with runs that declare the same R, a group larger than R is cut
 * into graphs of R, and a smaller one (the last of a sweep, runs resuming at
 * different steps, a worker that found fewer runs) is padded with *ghost*
 * replicates (copies of its first run whose results are dropped) so that
 * every run trains in the graph of R replicates its key names.
 */
export async function runPackedDetailed(
  runs: readonly PackedRun[],
  shared: PackShared = {},
): Promise<PackedOutcome[]> {
  const { outcomes, busy } = await runPacked(runs, shared, false);
  // Runs another process holds: each waited for alone, holding no lock
  // meanwhile (so two processes never wait for each other), then answered
  // from that process's record, or trained if it stopped without one.
  for (const index of busy) {
    [outcomes[index]] = (await runPacked([runs[index]], shared, true)).outcomes;
  }
  return outcomes;
}

/** What the runs of a pack share: the threads and the stop signal. */
type PackShared = {
  readonly threads?: number;
  readonly signal?: AbortSignal;
};

/**
 * {@link runPackedDetailed} once: with `wait`, a run another process holds
 * is waited for; without, it is left out (its index in `busy`).
 */
async function runPacked(
  runs: readonly PackedRun[],
  shared: PackShared,
  wait: boolean,
): Promise<{ outcomes: PackedOutcome[]; busy: number[] }> {
  const outcomes: PackedOutcome[] = new Array(runs.length);
  const busy: number[] = [];
  const groups = new Map<string, { index: number; run: OpenedRun }[]>();
  /** The graph size each group must train in (null: whatever it holds). */
  const graphSize = new Map<string, number | null>();
  for (const [index, { hypothesis, options }] of runs.entries()) {
    if (options.trace && runs.length > 1) {
      throw new RangeError("a traced run cannot be packed with others");
    }
    let opened: Awaited<ReturnType<typeof openRun>> | undefined;
    try {
      opened = await openRun(hypothesis, options, wait);
      if ("busy" in opened) {
        busy.push(index);
        continue;
      }
      if (!("hooks" in opened)) {
        outcomes[index] = { ok: true, outcome: opened };
        continue;
      }
      const p = opened.prepared;
      const backend = p.choice.engine.name;
      const size = REPLICATES_MATCH_SOLO.has(backend)
        ? null
        : options.replicas ?? 1;
      const group = canonicalJson({
        backend,
        graph: stepConfigOf(p.config),
        steps: p.steps,
        embeddingEvery: opened.embeddingEvery,
        checkpointEvery: opened.checkpointEvery ?? 0,
        resume: opened.hooks.resume?.step ?? 0,
        size,
      });
      groups.set(group, [...groups.get(group) ?? [], { index, run: opened }]);
      graphSize.set(group, size);
    } catch (error) {
      if (opened && "hooks" in opened) await opened.release();
      outcomes[index] = { ok: false, error };
    }
  }
  const graphs: { members: { index: number; run: OpenedRun }[]; R: number }[] =
    [];
  for (const [group, members] of groups) {
    const R = graphSize.get(group) ?? members.length;
    for (let i = 0; i < members.length; i += R) {
      graphs.push({ members: members.slice(i, i + R), R });
    }
  }
  for (const { members, R } of graphs) {
    const first = members[0].run;
    const p = first.prepared;
    let trained: (
      | { ok: true; result: TrainResult }
      | { ok: false; error: unknown }
    )[];
    try {
      if (R === 1) {
        const result = await train(p.config, p.corpus.bytes, {
          choice: p.choice,
          compiled: p.compiled,
          steps: p.steps,
          embeddingEvery: first.embeddingEvery,
          threads: shared.threads,
          signal: shared.signal,
          checkpointEvery: first.checkpointEvery,
          ...first.hooks,
        });
        trained = [{ ok: true, result }];
      } else {
        // Ghosts resume where their group does and report to no one.
        const ghosts = R - members.length;
        const ghost: ReplicateHooks = { resume: first.hooks.resume };
        trained = await trainReplicates(
          [
            ...members.map((m) => m.run.prepared.config),
            ...Array.from({ length: ghosts }, () => p.config),
          ],
          p.corpus.bytes,
          {
            choice: p.choice,
            compiled: compileReplicatedStep(stepConfigOf(p.config), R),
            steps: p.steps,
            embeddingEvery: first.embeddingEvery,
            threads: shared.threads,
            signal: shared.signal,
            checkpointEvery: first.checkpointEvery,
            replicates: [
              ...members.map((m) => m.run.hooks),
              ...Array.from({ length: ghosts }, () => ghost),
            ],
          },
        );
      }
    } catch (error) {
      trained = members.map(() => ({ ok: false, error }));
    }
    for (const [i, { index, run }] of members.entries()) {
      const t = trained[i];
      try {
        // A failed or stopped run is cleaned up by fail(), which rethrows;
        // a finished one is analysed and recorded.
        const result = await (async () => {
          try {
            if (!t.ok) throw t.error;
            await run.complete(t.result);
            return t.result;
          } catch (e) {
            return await run.fail(e);
          }
        })();
        outcomes[index] = {
          ok: true,
          outcome: await run.finish(result, R),
        };
      } catch (error) {
        outcomes[index] = { ok: false, error };
      } finally {
        await run.release();
      }
    }
  }
  return { outcomes, busy };
}

/** A run ready to train: its trainer hooks and what to do with the result. */
interface OpenedRun {
  readonly prepared: PreparedRun;
  /** Feed the history, the analysis, checkpoints and the trace. */
  readonly hooks: ReplicateHooks;
  readonly embeddingEvery: number;
  readonly checkpointEvery: number | undefined;
  /**
   * Checks that every step ran (else RunStoppedError) and closes the
   * history, the trace and the checkpoint store.
   */
  complete(result: TrainResult): Promise<void>;
  /** Cleans up after `e` (keeping what a resume needs) and throws it. */
  fail(e: unknown): Promise<never>;
  /** Analyses the finished run and writes its record. */
  finish(result: TrainResult, replicas: number): Promise<RunOutcome>;
  /** Releases the run's lock (after finish or fail); never throws. */
  release(): Promise<void>;
}

/** Refuses checkpoint options that could not resume bit-identically. */
function checkCheckpointOptions(options: RunOptions, every: number): void {
  const checkpoints = options.checkpoints;
  if (checkpoints && options.trace) {
    throw new RangeError("a traced run cannot use checkpoints");
  }
  if (checkpoints && every !== 1 && checkpoints.every % every !== 0) {
    throw new RangeError(
      "checkpoint interval must be a multiple of historyEvery",
    );
  }
}

/**
 * The checkpoint to resume from, or null: one that fails its checks (another
 * run key, an older format, content that does not match its seal, a seal
 * without the store's key, unparseable metadata) is named in a note,
 * discarded, and the run starts from step 0.
 */
async function loadResume(
  store: CheckpointStore,
  key: string,
  note: (message: string) => void,
): Promise<RunCheckpoint | null> {
  const saved = await store.load();
  if (!saved) return null;
  const sealKey = await store.sealKey?.() ?? null;
  try {
    return decodeCheckpoint(saved, key, { sealKey });
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    await discardCheckpoint(store, e.message, note);
    return null;
  }
}

/** Says why the checkpoint in `store` cannot be used, and removes it. */
async function discardCheckpoint(
  store: CheckpointStore,
  problem: string,
  note: (message: string) => void,
): Promise<void> {
  note(
    `checkpoint ${
      store.name ?? "(unnamed)"
    }: ${problem}; discarded, starting from step 0`,
  );
  await store.clear();
}

/**
 * Where a checkpointed run's history digest starts: empty for a fresh run;
 * for a resumed one, the partial history's bytes up to the checkpoint,
 * checked against the checkpoint's digest. A partial history that fails the
 * check discards the checkpoint (`resume` becomes null: the run starts over
 * rather than continue a history it cannot vouch for).
 */
async function resumeHistoryDigest(
  checkpoint: { resume: RunCheckpoint | null; store: CheckpointStore },
  partialHistory: string,
  note: (message: string) => void,
): Promise<{ resume: RunCheckpoint | null; digest: HistoryDigest }> {
  const { resume, store } = checkpoint;
  if (!resume || resume.historyBytes === null) {
    return { resume, digest: new HistoryDigest() };
  }
  const checked = resume.historySha256 === null
    ? "the checkpoint has no history digest"
    : await verifyHistoryPrefix(
      partialHistory,
      resume.historyBytes,
      resume.historySha256,
    );
  if (typeof checked !== "string") return { resume, digest: checked };
  await discardCheckpoint(
    store,
    `its partial history ${partialHistory}: ${checked}`,
    note,
  );
  return { resume: null, digest: new HistoryDigest() };
}

/** How {@linkcode openRunHistory} opens a run's embedding history. */
interface RunHistoryOptions {
  readonly dtype: Parameters<typeof openHistory>[2]["dtype"];
  readonly every: number;
  /** The run keeps checkpoints (its history must survive a kill). */
  readonly checkpointed: boolean;
  readonly resume: RunCheckpoint | null;
  /** The caller asked for a history. */
  readonly wanted: boolean;
  readonly note: (message: string) => void;
}

/**
 * The run's embedding history writer, or null when none is wanted or a
 * resumed run cannot continue the one it started (it then records none
 * rather than a history with a hole).
 */
async function openRunHistory(
  prepared: PreparedRun,
  files: ReturnType<typeof runFiles>,
  o: RunHistoryOptions,
): Promise<SafetensorsStreamWriter | null> {
  const { resume, note } = o;
  if (!o.wanted) return null;
  if (resume && resume.historyBytes === null) {
    note("the interrupted run wrote no history; this run records none");
    return null;
  }
  await Deno.mkdir(dirname(files.historyPath), { recursive: true });
  try {
    return await openHistory(files.historyPath, prepared, {
      dtype: o.dtype,
      every: o.every,
      // With checkpoints, the history goes to a stable partial file that
      // survives a kill, so a resumed run can continue it.
      partial: o.checkpointed
        ? {
          path: files.partialHistory,
          resumeDataBytes: resume?.historyBytes ?? undefined,
        }
        : undefined,
    });
  } catch (e) {
    if (!resume) throw e;
    note(
      `the partial history could not be resumed (${
        (e as Error).message
      }); this run records none`,
    );
    return null;
  }
}

/**
 * Saves a checkpoint: the trainer's state, the analysis so far, and how far
 * the history file got with the SHA-256 of those bytes (synced first, so a
 * resume never points past the bytes on disk).
 */
function checkpointWriter(
  store: CheckpointStore,
  run: {
    readonly key: string;
    readonly analysis: RunAnalysis;
    readonly history: SafetensorsStreamWriter | null;
    readonly digest: HistoryDigest;
  },
): (t: TrainerCheckpoint) => Promise<void> {
  return async (t) => {
    const historyBytes = run.history ? await run.history.sync() : null;
    if (historyBytes !== null && historyBytes !== run.digest.bytes) {
      throw new Error(
        `history digest covers ${run.digest.bytes} bytes, the file holds ${historyBytes}`,
      );
    }
    await store.save(
      encodeCheckpoint({
        key: run.key,
        trainer: t,
        ...run.analysis.state(),
        historyBytes,
        historySha256: historyBytes === null ? null : run.digest.hex(),
      }, await store.sealKey?.() ?? null),
    );
  };
}

/**
 * The usable record of `prepared`'s run, where the planner would find it
 * (`prepared.recordFiles`): its own file first, whose problems are told to
 * `note` unless another file answers; the others count only when they hold
 * a record of the same key (anything else there is not this run's).
 */
async function cachedAmong(
  prepared: PreparedRun,
  options: { readonly cacheDir: string; readonly note: (s: string) => void },
): Promise<{ record: RunRecord; path: string } | null> {
  const [own, ...others] = prepared.recordFiles;
  const told: string[] = [];
  const record = await cachedRecord(own, prepared.key, {
    cacheDir: options.cacheDir,
    note: (n) => told.push(n),
  });
  if (record) {
    told.forEach(options.note);
    return { record, path: own };
  }
  for (const path of others) {
    let found: RunRecord | null = null;
    try {
      found = await cachedRecord(path, prepared.key, {
        cacheDir: options.cacheDir,
        note: () => {},
      });
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
    }
    if (found?.key === prepared.key) return { record: found, path };
  }
  told.forEach(options.note);
  return null;
}

/**
 * The run's lock: taken, or (without `wait`) who holds it. Waiting says so in
 * one note; a stop while waiting is a {@link RunStoppedError} at step 0.
 */
async function takeRunLock(
  prepared: PreparedRun,
  options: RunOptions,
  wait: boolean,
): Promise<RunLock | LockHolder> {
  const path = runLockPath(prepared.key, options.cacheDir ?? CACHE_DIR);
  if (!wait) {
    const attempt = await tryLockRun(path);
    return "lock" in attempt ? attempt.lock : attempt.holder;
  }
  try {
    return await lockRun(path, {
      signal: options.signal,
      onWait: (holder) => options.onNote?.(waitingLine(holder, path)),
    });
  } catch (e) {
    if (!options.signal?.aborted) throw e;
    throw new RunStoppedError(
      0,
      prepared.steps,
      String(options.signal.reason ?? "stopped"),
    );
  }
}

/**
 * The cached outcome of a run, or the run opened for training (holding its
 * lock until released), or, without `wait`, the process that holds it.
 */
async function openRun(
  h: Hypothesis,
  options: RunOptions,
  wait: boolean,
): Promise<RunOutcome | OpenedRun | { readonly busy: LockHolder }> {
  const prepared = await prepareRun(h, options);
  const lock = await takeRunLock(prepared, options, wait);
  if (!("release" in lock)) return { busy: lock };
  try {
    const opened = await openLocked(h, prepared, options);
    if ("hooks" in opened) return { ...opened, release: () => lock.release() };
    await lock.release();
    return opened;
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/** {@link openRun} once the run's lock is held. */
async function openLocked(
  h: Hypothesis,
  prepared: PreparedRun,
  options: RunOptions,
): Promise<RunOutcome | Omit<OpenedRun, "release">> {
  const { config, steps, corpus, key } = prepared;
  const cacheDir = options.cacheDir ?? CACHE_DIR;
  const note = options.onNote ?? (() => {});

  if (options.useCache ?? true) {
    const cached = await cachedAmong(prepared, { cacheDir, note });
    if (cached) return { ...cached, cached: true, replicas: 0 };
    // Trained under this cache for another records folder (a gate test, a
    // second checkout): its kept record is this run's, history included.
    // Only where this folder has no record at all: a broken or stale one was
    // just named, and re-running is what that note promised.
    if (
      (options.saveRecord ?? true) &&
      !await pathExists(prepared.recordFile) &&
      await adoptKeptRecord(prepared.recordFile, prepared.name, key, {
        cacheDir,
      })
    ) {
      note(
        "using the record of this run kept in the cache (same run key: trained by a gate test or for another records folder)",
      );
      const adopted = await cachedAmong(prepared, { cacheDir, note });
      if (adopted) return { ...adopted, cached: true, replicas: 0 };
    }
  }
  const every = options.historyEvery ?? 1;
  const { dtype, toBytes } = embeddingEncoding(config.precision);
  const files = runFiles(cacheDir, h.id, prepared.name);
  const checkpoints = options.checkpoints;
  checkCheckpointOptions(options, every);
  const wanted = options.writeHistory ?? true;
  const loaded = checkpoints
    ? await loadResume(checkpoints.store, key, note)
    : null;
  // The running history digest only serves checkpoints: a run without them
  // hashes its history once, at the end (fileDigest), not at every step.
  const { resume, digest } = !checkpoints
    ? { resume: loaded, digest: null }
    : wanted
    ? await resumeHistoryDigest(
      { resume: loaded, store: checkpoints.store },
      files.partialHistory,
      note,
    )
    : { resume: loaded, digest: new HistoryDigest() };
  if (resume) {
    note(`resuming from the checkpoint at step ${resume.trainer.step}`);
  }
  await checkFreeSpace(
    runSpaceNeeds(prepared, {
      historyDir: wanted && resume?.historyBytes !== null
        ? dirname(files.historyPath)
        : null,
      historyWritten: resume?.historyBytes ?? 0,
      every,
      checkpointDir: checkpoints?.store.name
        ? dirname(checkpoints.store.name)
        : null,
      recordDir: options.saveRecord ?? true
        ? dirname(prepared.recordFile)
        : null,
      traceDir: options.trace ? dirname(files.tracePrefix) : null,
    }),
    options.freeSpace,
  );
  const history = await openRunHistory(prepared, files, {
    dtype,
    every,
    checkpointed: checkpoints !== undefined,
    resume,
    wanted,
    note,
  });
  let trace: SafetensorsStreamWriter | null = null;
  if (options.trace) {
    await Deno.mkdir(dirname(files.tracePrefix), { recursive: true });
    if (config.noise) {
      trace = await openNoiseTrace(files.tracePrefix, prepared, dtype);
    }
  }

  const { vocabSize: V, dModel: d } = config.model;
  const analysis = new RunAnalysis(
    V,
    d,
    corpus.deadTokens,
    resume ?? undefined,
  );
  const onCheckpoint = checkpoints && digest
    ? checkpointWriter(checkpoints.store, { key, analysis, history, digest })
    : undefined;
  const observe = async (step: number, wte: Float32Array) => {
    analysis.observe(step, wte);
    if (!history) return;
    const bytes = toBytes(wte);
    digest?.update(bytes);
    await history.append("embedding_history", bytes);
  };
  const run: RunState = {
    prepared,
    options,
    files,
    analysis,
    history,
    trace,
    toBytes,
    header: recordHeader(prepared, options.threads),
  };

  return {
    prepared,
    embeddingEvery: every,
    checkpointEvery: checkpoints?.every,
    hooks: {
      onEmbedding: observe,
      onStep: options.onStep,
      resume: resume?.trainer,
      onCheckpoint,
      recordOffsets: options.trace,
      onNoise: trace
        ? (_t, noise) => trace!.append("noise", toBytes(noise))
        : undefined,
    },
    async complete(result) {
      if (result.stepsRun < steps) {
        throw new RunStoppedError(
          result.stepsRun,
          steps,
          String(options.signal?.reason ?? "stopped"),
        );
      }
      await trace?.close();
    },
    fail: (e) => failRun(run, e),
    finish: (result, replicas) => finishRun(run, result, replicas),
  };
}

/** What {@link failRun} and {@link finishRun} work on: one opened run. */
interface RunState {
  readonly prepared: PreparedRun;
  readonly options: RunOptions;
  readonly files: ReturnType<typeof runFiles>;
  readonly analysis: RunAnalysis;
  readonly history: SafetensorsStreamWriter | null;
  readonly trace: SafetensorsStreamWriter | null;
  readonly toBytes: (wte: Float32Array) => Uint8Array;
  readonly header: ReturnType<typeof recordHeader>;
}

/**
 * Cleans up after `e` and throws it: a stopped checkpointed run keeps its
 * checkpoint and partial history to resume from; a diverged run is recorded
 * (so it is not repeated) and its checkpoint cleared.
 */
async function failRun(run: RunState, e: unknown): Promise<never> {
  const { options, history, trace, prepared } = run;
  const checkpoints = options.checkpoints;
  const resumable = checkpoints && !(e instanceof DivergedError);
  if (!resumable) await history?.abort();
  await trace?.abort();
  if (e instanceof DivergedError && (options.saveRecord ?? true)) {
    await writeRecord(
      prepared.recordFile,
      divergedRecord(
        run.header,
        prepared.choice,
        e,
        run.analysis.trajectory(),
      ),
    );
  }
  if (e instanceof DivergedError) await checkpoints?.store.clear();
  throw e;
}

/**
 * Analyses a finished run and saves it, in the order that loses nothing:
 * the record (atomically), then the history moves into place, then the
 * checkpoint is cleared. A failure before the last step (a full disk, a
 * records folder that became a file) leaves the checkpoint and the partial
 * history, so the next run finishes from the checkpoint instead of step 0.
 * A run without checkpoints closes its history first (its digest is taken
 * from the final file).
 */
async function finishRun(
  run: RunState,
  result: TrainResult,
  replicas: number,
): Promise<RunOutcome> {
  const { options, files, history, prepared } = run;
  const checkpoints = options.checkpoints;
  const save = options.saveRecord ?? true;
  if (options.trace) await writeTrace(files.tracePrefix, prepared, result);
  const outcome = await run.analysis.result(run.toBytes);
  let historyFile: string | null = null;
  if (history) {
    historyFile = files.historyPath;
    if (checkpoints) {
      await history.sync();
      historyFile = files.partialHistory;
    } else {
      await history.close();
    }
  }
  const record = completeRecord(
    run.header,
    result,
    run.analysis.trajectory(),
    outcome,
    historyFile
      ? { file: files.history, ...await fileDigest(historyFile) }
      : null,
  );
  if (save) {
    try {
      await writeRecord(prepared.recordFile, record, {
        checkpoint: checkpoints
          ? checkpoints.store.name ?? "(unnamed)"
          : undefined,
      });
    } catch (e) {
      if (!checkpoints || e instanceof InconsistentRecordError) throw e;
      throw new Error(
        `cannot write the record ${prepared.recordFile} (${
          (e as Error).message
        }); the checkpoint is kept: the same command finishes the run from it`,
      );
    }
  }
  if (checkpoints) await history?.close();
  await checkpoints?.store.clear();
  if (save && record.history !== null) {
    // A copy for runs of this key in other records folders: a convenience,
    // so failing to make it costs only the copy, never the run.
    try {
      await keepRecord(prepared.recordFile, prepared.name, {
        cacheDir: options.cacheDir ?? CACHE_DIR,
      });
    } catch (e) {
      options.onNote?.(
        `no copy of the record kept in the cache (${
          (e as Error).message
        }); the run is recorded at ${prepared.recordFile}`,
      );
    }
  }
  return {
    record,
    cached: false,
    path: save ? prepared.recordFile : null,
    replicas,
  };
}
