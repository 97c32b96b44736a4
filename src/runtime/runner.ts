/**
 * Drives a compiled step graph on one engine, keeping parameters and AdamW
 * moments as engine tensors between steps (GPU buffers on WebGPU): each step
 * feeds the previous step's `new.*` outputs back as its state inputs.
 *
 * What the host records of a step — its loss, gradient norm and, when asked,
 * a snapshot of one parameter — is copied into a {@linkcode DeviceLog} and
 * stays on the device until {@linkcode StepRunner.collect} reads every
 * pending step at once: on WebGPU one GPU-to-CPU sync per `readEvery` steps
 * instead of two or three per step. The values are the same bits either way.
 *
 * A replicated step graph (see step/replicated_step.ts) trains R models in
 * lock step: the state is [R, N], each step takes one feed per replicate,
 * and records, reads and snapshots name their replicate.
 *
 * @module
 */

import type { StepScalars } from "../step/adamw.ts";
import type { Batch } from "../data/sampler.ts";
import type { CompiledStep, ParamSlot } from "../step/step.ts";
import type { ReplicatedStep } from "../step/replicated_step.ts";
import type {
  DeviceLog,
  Engine,
  EngineSession,
  LogCopy,
  OrtTensor,
} from "./engine.ts";

/**
 * Steps per read on a device-resident engine (WebGPU) unless told otherwise:
 * divides the default checkpoint cadence (250), and 50 embedding snapshots of
 * the seed model are 1.6 MB of log. Host engines read every step (free).
 */
export const DEFAULT_DEVICE_READ_EVERY = 50;

/** What one step reports back to the host. */
export interface StepOutput {
  /** Training loss of the batch: cross-entropy in nats, as HF computes it. */
  readonly loss: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
}

/** One step's record, as {@linkcode StepRunner.collect} returns it. */
export interface StepRecord extends StepOutput {
  /**
   * The snapshot parameter after this step (a fresh array), when the step
   * was enqueued with `snapshot: true`; else null.
   */
  readonly snapshot: Float32Array | null;
}

/** Options of {@linkcode StepRunner.create}. */
export interface StepRunnerOptions {
  /** Intra-op threads of the cpu engine. */
  threads?: number;
  /**
   * Resume from these flat vectors instead (moments included); one per
   * replicate for a replicated graph.
   */
  state?: FlatState | readonly FlatState[];
  /**
   * Most steps pending before {@linkcode StepRunner.collect} must be called
   * (the log's size). Default: {@linkcode DEFAULT_DEVICE_READ_EVERY} on a
   * device-resident engine, 1 on the host engines.
   */
  readEvery?: number;
  /** The parameter snapshotted by steps enqueued with `snapshot: true`. */
  snapshot?: {
    /** Parameter name, e.g. `transformer.wte.weight`. */
    readonly name: string;
    /**
     * Snapshots come at most once every this many steps (default 1): the
     * log keeps room for `ceil(readEvery / every)` of them.
     */
    readonly every?: number;
  };
}

/** The resident state as flat host vectors (parameters and AdamW moments). */
export interface FlatState {
  /** All parameters back to back, laid out as `paramLayout` says. */
  readonly params: Float32Array;
  /** AdamW first moments, in the same layout as `params`. */
  readonly m: Float32Array;
  /** AdamW second moments, in the same layout as `params`. */
  readonly v: Float32Array;
}

/** The inputs that change every step. */
export interface StepFeed {
  /** The step's token windows (inputs and targets). */
  readonly batch: Batch;
  /** The step's learning rate and AdamW bias corrections. */
  readonly scalars: StepScalars;
  /** Noise for the configured parameter (required iff the graph has noise). */
  readonly noise?: Float32Array;
  /** Dropout masks of the step, flat (required iff the graph has dropout). */
  readonly dropout?: Float32Array;
  /** Uniforms of stochastic rounding, one per parameter (iff the graph rounds so). */
  readonly rounding?: Float32Array;
}

/** A training session: one step graph, resident state. */
export class StepRunner {
  /** The engine session the step graph is loaded in. */
  readonly session: EngineSession;
  /** The compiled step graph being run. */
  readonly step: CompiledStep;
  /** Most steps pending between reads (see {@linkcode StepRunnerOptions}). */
  readonly readEvery: number;
  /** Models trained in lock step (1 for a solo graph). */
  readonly replicas: number;
  #replicated: boolean;
  #state = new Map<string, OrtTensor>();
  #stepsDone = 0;
  #log: DeviceLog;
  #snapshot: ParamSlot | null;
  #slots: number;
  /** Snapshot slot of each pending step (-1: none). */
  #pending: number[] = [];
  #snapshotsPending = 0;

  private constructor(
    session: EngineSession,
    step: CompiledStep,
    readEvery: number,
    snapshot: ParamSlot | null,
    slots: number,
  ) {
    this.session = session;
    this.step = step;
    this.readEvery = readEvery;
    this.#replicated = "replicas" in step;
    this.replicas = (step as Partial<ReplicatedStep>).replicas ?? 1;
    this.#snapshot = snapshot;
    this.#slots = snapshot ? slots : 0;
    this.#log = session.createLog(
      this.replicas * (2 * readEvery + this.#slots * (snapshot?.size ?? 0)),
    );
  }

  /**
   * Loads `step` (a `train` graph) on `engine` with the given initial
   * parameters (one map per replicate for a replicated graph); moments start
   * at zero.
   */
  static async create(
    engine: Engine,
    step: CompiledStep,
    params:
      | ReadonlyMap<string, Float32Array>
      | readonly ReadonlyMap<string, Float32Array>[],
    options: StepRunnerOptions = {},
  ): Promise<StepRunner> {
    if (step.kind !== "train") {
      throw new Error("StepRunner needs a train graph");
    }
    const R = (step as Partial<ReplicatedStep>).replicas ?? 1;
    const perReplicate = <T>(
      x: T | readonly T[],
      what: string,
    ): readonly T[] => {
      const list = Array.isArray(x) ? x as readonly T[] : [x as T];
      if (list.length !== R) {
        throw new RangeError(
          `${list.length} ${what} for a graph of ${R} replicate(s)`,
        );
      }
      return list;
    };
    const readEvery = options.readEvery;
    if (
      readEvery !== undefined &&
      !(Number.isInteger(readEvery) && readEvery >= 1)
    ) {
      throw new RangeError(
        `readEvery must be an integer >= 1, got ${readEvery}`,
      );
    }
    let snapshot: ParamSlot | null = null;
    if (options.snapshot) {
      const { name, every = 1 } = options.snapshot;
      snapshot = step.params.find((p) => p.name === name) ?? null;
      if (!snapshot) throw new RangeError(`no parameter ${name}`);
      if (!(Number.isInteger(every) && every >= 1)) {
        throw new RangeError(`snapshot every must be an integer >= 1`);
      }
    }
    const session = await engine.load(step.onnx, {
      deviceOutputs: ["new.params", "new.m", "new.v", "loss", "grad_norm"],
      threads: options.threads,
    });
    const every = readEvery ??
      (session.deviceResident ? DEFAULT_DEVICE_READ_EVERY : 1);
    const slots = Math.ceil(every / (options.snapshot?.every ?? 1));
    const runner = new StepRunner(session, step, every, snapshot, slots);
    const N = step.totalSize;
    const dims = runner.#replicated ? [R, N] : [N];
    if (options.state) {
      const states = perReplicate(options.state, "resumed states");
      for (const k of ["params", "m", "v"] as const) {
        const flat = new Float32Array(R * N);
        states.forEach((state, r) => {
          if (state[k].length !== N) {
            throw new RangeError(
              `resumed ${k} has ${state[k].length} values, the graph ${N}`,
            );
          }
          flat.set(state[k], r * N);
        });
        runner.#state.set(k, session.tensor(flat, dims));
      }
      return runner;
    }
    const flat = new Float32Array(R * N);
    perReplicate(params, "initial parameter sets").forEach((values, r) => {
      for (const slot of step.params) {
        const v = values.get(slot.name);
        if (!v || v.length !== slot.size) {
          throw new RangeError(
            `initial value for ${slot.name} missing or of wrong size`,
          );
        }
        flat.set(v, r * N + slot.offset);
      }
    });
    runner.#state.set("params", session.tensor(flat, dims));
    runner.#state.set("m", session.tensor(new Float32Array(flat.length), dims));
    runner.#state.set("v", session.tensor(new Float32Array(flat.length), dims));
    return runner;
  }

  /** Steps completed so far. */
  get stepsDone(): number {
    return this.#stepsDone;
  }

  /** Parameter layout of the graph's flat state. */
  get params(): readonly ParamSlot[] {
    return this.step.params;
  }

  /** Steps run but not yet collected. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Runs one step and advances the resident state; its loss and gradient
   * norm (and with `snapshot`, the snapshot parameter after the step) are
   * copied into the log, where they stay until {@linkcode collect}. At most
   * `readEvery` steps (and snapshot slots) may be pending. A replicated
   * graph takes one feed per replicate, all with the same step scalars.
   */
  async enqueue(
    feed: StepFeed | readonly StepFeed[],
    options: { snapshot?: boolean } = {},
  ): Promise<void> {
    const R = this.replicas;
    const list = Array.isArray(feed)
      ? feed as readonly StepFeed[]
      : [feed as StepFeed];
    if (list.length !== R) {
      throw new RangeError(
        `${list.length} feeds for a graph of ${R} replicate(s)`,
      );
    }
    const K = this.readEvery;
    const i = this.#pending.length;
    if (i >= K) {
      throw new RangeError(`${K} steps are pending: collect() them first`);
    }
    const snap = options.snapshot ? this.#snapshot : null;
    if (options.snapshot && !snap) {
      throw new RangeError("this runner was created without a snapshot");
    }
    if (snap && this.#snapshotsPending >= this.#slots) {
      throw new RangeError(
        `${this.#slots} snapshots are pending: collect() them first`,
      );
    }
    const s = this.session;
    const { batchSize: B, seqLen: T } = this.step.config;
    const lead = this.#replicated ? [R] : [];
    const scalars = list[0].scalars;
    for (const f of list) {
      if (
        f.scalars.lrWd !== scalars.lrWd ||
        f.scalars.stepSize !== scalars.stepSize ||
        f.scalars.bc2Sqrt !== scalars.bc2Sqrt
      ) {
        throw new RangeError("replicates must share the step scalars");
      }
    }
    const feeds: Record<string, OrtTensor> = Object.fromEntries(this.#state);
    feeds.input_ids = s.tensor(stack(list.map((f) => f.batch.inputIds)), [
      ...lead,
      B,
      T,
    ]);
    feeds.targets = s.tensor(stack(list.map((f) => f.batch.targets)), [
      ...lead,
      B,
      T,
    ]);
    feeds.loss_weights = s.tensor(stack(list.map((f) => f.batch.weights)), [
      ...lead,
      B,
      T,
    ]);
    feeds.lr_wd = s.tensor(new Float32Array([scalars.lrWd]), []);
    feeds.step_size = s.tensor(new Float32Array([scalars.stepSize]), []);
    feeds.bc2_sqrt = s.tensor(new Float32Array([scalars.bc2Sqrt]), []);
    const noiseParam = this.step.config.noiseParam;
    if (noiseParam) {
      const noise = list.map((f) => f.noise);
      if (noise.some((n) => !n)) {
        throw new RangeError("this step graph needs noise");
      }
      const spec = this.step.params.find((p) => p.name === noiseParam)!;
      feeds.noise = s.tensor(stack(noise as Float32Array[]), [
        ...lead,
        ...spec.shape,
      ]);
    }
    if (this.step.config.rounding) {
      const uniforms = list.map((f) => f.rounding);
      if (uniforms.some((u) => !u)) {
        throw new RangeError("this step graph needs rounding uniforms");
      }
      feeds.rounding = s.tensor(stack(uniforms as Float32Array[]), [
        ...lead,
        this.step.totalSize,
      ]);
    }
    const dropout = this.step.inputs.find((i) => i.name === "dropout");
    if (dropout) {
      const masks = list.map((f) => f.dropout);
      if (masks.some((m) => !m)) {
        throw new RangeError("this step graph needs dropout masks");
      }
      feeds.dropout = s.tensor(stack(masks as Float32Array[]), [
        ...lead,
        dropout.shape.at(-1)!,
      ]);
    }
    const out = await s.run(feeds);
    const previous = [...this.#state.values()];
    for (const [name, tensor] of Object.entries(out)) {
      if (name.startsWith("new.")) this.#state.set(name.slice(4), tensor);
    }
    // Log layout: K x R losses, K x R gradient norms, then snapshot slots
    // of R snapshots each.
    const copies: LogCopy[] = [
      { tensor: out.loss, offset: 0, length: R, at: i * R },
      { tensor: out.grad_norm, offset: 0, length: R, at: (K + i) * R },
    ];
    let slot = -1;
    if (snap) {
      slot = this.#snapshotsPending++;
      for (let r = 0; r < R; r++) {
        copies.push({
          tensor: this.#state.get("params")!,
          offset: r * this.step.totalSize + snap.offset,
          length: snap.size,
          at: 2 * K * R + (slot * R + r) * snap.size,
        });
      }
    }
    // Submitted before anything is disposed or run again.
    this.#log.copy(copies);
    for (const t of previous) s.dispose(t);
    s.dispose(out.loss);
    s.dispose(out.grad_norm);
    this.#pending.push(slot);
    this.#stepsDone++;
  }

  /**
   * Reads every pending step's record, in step order, with one transfer
   * (one GPU-to-CPU sync on WebGPU; none when nothing is pending). For a
   * solo graph; a replicated one uses {@linkcode collectReplicates}.
   */
  async collect(): Promise<StepRecord[]> {
    if (this.#replicated) {
      throw new RangeError("a replicated graph is read by collectReplicates()");
    }
    return (await this.collectReplicates())[0];
  }

  /**
   * Reads every pending step's record of every replicate with one transfer:
   * element r is replicate r's records in step order.
   */
  async collectReplicates(): Promise<StepRecord[][]> {
    const R = this.replicas;
    const n = this.#pending.length;
    if (n === 0) return Array.from({ length: R }, () => []);
    const K = this.readEvery;
    const size = this.#snapshot?.size ?? 0;
    const used = this.#snapshotsPending;
    const values = await this.#log.read(
      used ? R * (2 * K + used * size) : R * (K + n),
    );
    const records = Array.from(
      { length: R },
      (_, r) =>
        this.#pending.map((slot, i) => {
          const at = 2 * K * R + (slot * R + r) * size;
          return {
            loss: values[i * R + r],
            gradNorm: values[(K + i) * R + r],
            snapshot: slot < 0 ? null : values.slice(at, at + size),
          };
        }),
    );
    this.#pending = [];
    this.#snapshotsPending = 0;
    return records;
  }

  /** Runs one step and reads its loss and gradient norm (a read per step). */
  async run(feed: StepFeed): Promise<StepOutput> {
    if (this.#pending.length) {
      throw new RangeError("steps are pending: collect() them first");
    }
    await this.enqueue(feed);
    const [{ loss, gradNorm }] = await this.collect();
    return { loss, gradNorm };
  }

  /**
   * Copies one parameter (`<name>`) or one parameter's moment (`m.<name>`,
   * `v.<name>`) of a replicate to the host, as of the last step run (pending
   * steps included).
   */
  async read(name: string, replicate = 0): Promise<Float32Array> {
    const [vector, param] = name.startsWith("m.") || name.startsWith("v.")
      ? [name[0], name.slice(2)]
      : ["params", name];
    const slot = this.step.params.find((p) => p.name === param);
    if (!slot) throw new RangeError(`no parameter ${param}`);
    return await this.session.readRange(
      this.#state.get(vector)!,
      this.#base(replicate) + slot.offset,
      slot.size,
    );
  }

  /** Where the resident state vector is (`gpu-buffer` on WebGPU). */
  stateLocation(vector: "params" | "m" | "v"): string {
    return this.#state.get(vector)!.location;
  }

  /** Copies a replicate's whole flat state vector to the host. */
  async readState(
    vector: "params" | "m" | "v",
    replicate = 0,
  ): Promise<Float32Array> {
    const t = this.#state.get(vector)!;
    return await this.session.readRange(
      t,
      this.#base(replicate),
      this.step.totalSize,
    );
  }

  /** Copies every parameter of a replicate to the host. */
  async parameters(replicate = 0): Promise<Map<string, Float32Array>> {
    const flat = await this.readState("params", replicate);
    return new Map(
      this.step.params.map((
        s,
      ) => [s.name, flat.slice(s.offset, s.offset + s.size)]),
    );
  }

  /** Where a replicate's vectors start in the resident [R, N] state. */
  #base(replicate: number): number {
    if (
      !(Number.isInteger(replicate) && replicate >= 0 &&
        replicate < this.replicas)
    ) {
      throw new RangeError(
        `replicate ${replicate} outside 0..${this.replicas - 1}`,
      );
    }
    return replicate * this.step.totalSize;
  }

  /** Frees the session, the log and the resident state. */
  async release(): Promise<void> {
    for (const t of this.#state.values()) this.session.dispose(t);
    this.#state.clear();
    this.#log.destroy();
    await this.session.release();
  }
}

/** The replicates' arrays back to back (the one array itself when R = 1). */
function stack<T extends Float32Array | Int32Array>(arrays: readonly T[]): T {
  if (arrays.length === 1) return arrays[0];
  const n = arrays[0].length;
  const out = new (arrays[0].constructor as { new (n: number): T })(
    n * arrays.length,
  );
  arrays.forEach((a, r) => out.set(a, r * n));
  return out;
}
