/**
 * Drives a compiled step graph on one engine, keeping parameters and AdamW
 * moments as engine tensors between steps (GPU buffers on WebGPU): each step
 * feeds the previous step's `new.*` outputs back as its state inputs.
 *
 * @module
 */

import type { StepScalars } from "../train/adamw.ts";
import type { Batch } from "../train/sampler.ts";
import type { CompiledStep, ParamSlot } from "../train/step.ts";
import type { Engine, EngineSession, OrtTensor } from "./engine.ts";

/** What one step reports back to the host. */
export interface StepOutput {
  /** Training loss of the batch: cross-entropy in nats, as HF computes it. */
  readonly loss: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
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
}

/** A training session: one step graph, resident state. */
export class StepRunner {
  /** The engine session the step graph is loaded in. */
  readonly session: EngineSession;
  /** The compiled step graph being run. */
  readonly step: CompiledStep;
  #state = new Map<string, OrtTensor>();
  #stepsDone = 0;

  private constructor(session: EngineSession, step: CompiledStep) {
    this.session = session;
    this.step = step;
  }

  /**
   * Loads `step` (a `train` graph) on `engine` with the given initial
   * parameters; moments start at zero.
   */
  static async create(
    engine: Engine,
    step: CompiledStep,
    params: ReadonlyMap<string, Float32Array>,
    options: {
      threads?: number;
      /** Resume from these flat vectors instead (moments included). */
      state?: FlatState;
    } = {},
  ): Promise<StepRunner> {
    if (step.kind !== "train") {
      throw new Error("StepRunner needs a train graph");
    }
    const session = await engine.load(step.onnx, {
      deviceOutputs: ["new.params", "new.m", "new.v"],
      threads: options.threads,
    });
    const runner = new StepRunner(session, step);
    const dims = [step.totalSize];
    if (options.state) {
      for (const k of ["params", "m", "v"] as const) {
        if (options.state[k].length !== step.totalSize) {
          throw new RangeError(
            `resumed ${k} has ${
              options.state[k].length
            } values, the graph ${step.totalSize}`,
          );
        }
        runner.#state.set(k, session.tensor(options.state[k].slice(), dims));
      }
      return runner;
    }
    const flat = new Float32Array(step.totalSize);
    for (const slot of step.params) {
      const values = params.get(slot.name);
      if (!values || values.length !== slot.size) {
        throw new RangeError(
          `initial value for ${slot.name} missing or of wrong size`,
        );
      }
      flat.set(values, slot.offset);
    }
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

  /** Runs one step and advances the resident state. */
  async run(feed: StepFeed): Promise<StepOutput> {
    const s = this.session;
    const { batchSize: B, seqLen: T } = this.step.config;
    const feeds: Record<string, OrtTensor> = Object.fromEntries(this.#state);
    feeds.input_ids = s.tensor(feed.batch.inputIds, [B, T]);
    feeds.targets = s.tensor(feed.batch.targets, [B, T]);
    feeds.loss_weights = s.tensor(feed.batch.weights, [B, T]);
    feeds.lr_wd = s.tensor(new Float32Array([feed.scalars.lrWd]), []);
    feeds.step_size = s.tensor(new Float32Array([feed.scalars.stepSize]), []);
    feeds.bc2_sqrt = s.tensor(new Float32Array([feed.scalars.bc2Sqrt]), []);
    const noiseParam = this.step.config.noiseParam;
    if (noiseParam) {
      if (!feed.noise) throw new RangeError("this step graph needs noise");
      const spec = this.step.params.find((p) => p.name === noiseParam)!;
      feeds.noise = s.tensor(feed.noise, spec.shape);
    }
    const out = await s.run(feeds);
    const previous = [...this.#state.values()];
    for (const [name, tensor] of Object.entries(out)) {
      if (name.startsWith("new.")) this.#state.set(name.slice(4), tensor);
    }
    for (const t of previous) s.dispose(t);
    this.#stepsDone++;
    const [loss, gradNorm] = await Promise.all([
      s.read(out.loss),
      s.read(out.grad_norm),
    ]);
    return { loss: loss[0], gradNorm: gradNorm[0] };
  }

  /**
   * Copies one parameter (`<name>`) or one parameter's moment (`m.<name>`,
   * `v.<name>`) to the host.
   */
  async read(name: string): Promise<Float32Array> {
    const [vector, param] = name.startsWith("m.") || name.startsWith("v.")
      ? [name[0], name.slice(2)]
      : ["params", name];
    const slot = this.step.params.find((p) => p.name === param);
    if (!slot) throw new RangeError(`no parameter ${param}`);
    return await this.session.readRange(
      this.#state.get(vector)!,
      slot.offset,
      slot.size,
    );
  }

  /** Where the resident state vector is (`gpu-buffer` on WebGPU). */
  stateLocation(vector: "params" | "m" | "v"): string {
    return this.#state.get(vector)!.location;
  }

  /** Copies a whole flat state vector to the host. */
  async readState(vector: "params" | "m" | "v"): Promise<Float32Array> {
    const t = this.#state.get(vector)!;
    return await this.session.readRange(t, 0, this.step.totalSize);
  }

  /** Copies every parameter to the host. */
  async parameters(): Promise<Map<string, Float32Array>> {
    const flat = await this.readState("params");
    return new Map(
      this.step.params.map((
        s,
      ) => [s.name, flat.slice(s.offset, s.offset + s.size)]),
    );
  }

  /** Frees the session and the resident state. */
  async release(): Promise<void> {
    for (const t of this.#state.values()) this.session.dispose(t);
    this.#state.clear();
    await this.session.release();
  }
}
