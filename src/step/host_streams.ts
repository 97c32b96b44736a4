/**
 * Everything the host feeds a run, from one place: initial parameters, the
 * batch order, the per-step AdamW scalars, the post-step noise and the
 * optional per-step inputs (stochastic-rounding uniforms, dropout masks),
 * each from its own seeded PCG32 stream. The trainer draws from
 * {@link HostStreams}, and {@link hostStreamsDigest} hashes the same streams,
 * so a run's key changes exactly when what enters the graph changes.
 *
 * @module
 */

import { initParameters } from "../model/init.ts";
import { parameterCount, parameterSpecs } from "../model/config.ts";
import { type StepScalars, stepScalars } from "./adamw.ts";
import { roundArrayToBf16 } from "../data/bf16.ts";
import { sha256Hex, type TrainConfig } from "./config.ts";
import { noiseForStep } from "../data/noise.ts";
import { Pcg32, type Pcg32Snapshot, Stream } from "../data/rng.ts";
import { createSampler, type Sampler } from "../data/sampler.ts";
import { storesBf16 } from "./step.ts";
import { roundingUniforms } from "./stochastic_rounding.ts";
import { drawDropoutMasks } from "./dropout_masks.ts";
import { dropoutLayout, dropoutSize } from "../model/dropout.ts";

/**
 * Version of the host-side streams. Bump it with any intentional change to
 * how they are drawn (the golden digest test then needs its value updated in
 * the same commit, which is the point).
 */
export const HOST_STREAMS_VERSION = 1;

/**
 * Steps of noise that {@link hostStreamsDigest} hashes. Noise is the one
 * stream that is costly to draw (8,192 normals a step for the seeds' model);
 * its generator is exercised fully by these steps, and its seeding by the
 * stream id.
 */
export const DIGEST_NOISE_STEPS = 4;

/** Where a run's host streams are (see {@link HostStreams.snapshot}). */
export interface HostStreamsSnapshot {
  /** The 0-based step the next inputs are for. */
  readonly step: number;
  /** Position of the noise generator. */
  readonly noise: Pcg32Snapshot;
  /** Position of the stochastic-rounding generator; absent when it is off. */
  readonly rounding?: Pcg32Snapshot;
  /** Position of the dropout-mask generator; absent when dropout is off. */
  readonly dropout?: Pcg32Snapshot;
}

/** One step's host inputs. */
export interface HostStep {
  /** Window offsets of the batch [batchSize]. */
  readonly offsets: Int32Array;
  readonly scalars: StepScalars;
  /** Noise for `config.noise.param` (its shape, flattened); absent without noise. */
  readonly noise?: Float32Array;
  /**
   * Uniforms of stochastic rounding, one per parameter in layout order;
   * absent unless `config.rounding` is `stochastic`.
   */
  readonly rounding?: Float32Array;
  /** Dropout masks, flat (see model/dropout.ts); absent without dropout. */
  readonly dropout?: Float32Array;
}

/** A stream that is open for a run: what it draws each step. */
interface OpenStream {
  /** Hashed before its draws in {@link hostStreamsDigest}. */
  readonly tag: string;
  /** Elements drawn per step. */
  readonly size: number;
  /** Draws one step's elements into `out` (length `size`) and returns it. */
  draw(rng: Pcg32, out: Float32Array): Float32Array;
}

/**
 * A per-step input that exists only when its mode is on, drawn from its own
 * PCG32 stream, so switching it on leaves the init, the batch order, the
 * noise and the other optional streams as they were.
 */
interface OptionalStream {
  /** Its field in {@link HostStep} and {@link HostStreamsSnapshot}. */
  readonly field: "rounding" | "dropout";
  /** Its PCG32 stream id. */
  readonly stream: number;
  /** How a resume error names it. */
  readonly label: string;
  /** What it draws for `c`; null when `c` has the mode off. */
  open(c: TrainConfig): OpenStream | null;
}

/** The optional streams, in the order they are drawn and hashed. */
const OPTIONAL_STREAMS: readonly OptionalStream[] = [
  {
    field: "rounding",
    stream: Stream.rounding,
    label: "stochastic-rounding",
    open: (c) =>
      c.rounding
        ? {
          tag: `rounding:${c.rounding}`,
          size: parameterCount(c.model),
          draw: roundingUniforms,
        }
        : null,
  },
  {
    field: "dropout",
    stream: Stream.dropout,
    label: "dropout",
    open: (c) => {
      const layout = dropoutLayout(c.model, c.batchSize, c.seqLen);
      return layout.length
        ? {
          tag: "dropout",
          size: dropoutSize(layout),
          draw: (rng, out) => drawDropoutMasks(rng, layout, out),
        }
        : null;
    },
  },
];

/** An optional stream open for this run, at its position. */
interface OptionalDraws {
  readonly spec: OptionalStream;
  readonly open: OpenStream;
  rng: Pcg32;
  readonly out: Float32Array;
}

/** Initial parameters of a run (identical for every backend). */
export function initialParameters(c: TrainConfig): Map<string, Float32Array> {
  return initParameters(c.model, new Pcg32(c.seed, Stream.init), {
    embedding: c.embeddingInit,
    roundToBf16: storesBf16(c.precision) ? roundArrayToBf16 : undefined,
  });
}

/** The host-side streams of one run, drawn step by step. */
export class HostStreams {
  readonly config: TrainConfig;
  readonly #sampler: Sampler;
  #noiseRng: Pcg32;
  readonly #noiseShape: readonly number[] | null;
  readonly #noiseBuf: Float32Array | null;
  readonly #optional: readonly OptionalDraws[];
  #step = 0;

  /** Streams of `config` over a corpus of `corpusLength` bytes. */
  constructor(config: TrainConfig, corpusLength: number) {
    this.config = config;
    this.#sampler = createSampler({
      windows: corpusLength - config.seqLen,
      batchSize: config.batchSize,
      seed: config.seed,
    });
    this.#noiseRng = new Pcg32(config.seed, Stream.noise);
    if (config.noise) {
      const spec = parameterSpecs(config.model).find((p) =>
        p.name === config.noise!.param
      );
      if (!spec) {
        throw new RangeError(
          `noise.param ${config.noise.param} is not a parameter`,
        );
      }
      this.#noiseShape = spec.shape;
      this.#noiseBuf = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    } else {
      this.#noiseShape = null;
      this.#noiseBuf = null;
    }
    this.#optional = OPTIONAL_STREAMS.flatMap((spec) => {
      const open = spec.open(config);
      return open
        ? [{
          spec,
          open,
          rng: new Pcg32(config.seed, spec.stream),
          out: new Float32Array(open.size),
        }]
        : [];
    });
  }

  /** Where the streams are, to resume them with {@link HostStreams.resume}. */
  snapshot(): HostStreamsSnapshot {
    return {
      step: this.#step,
      noise: this.#noiseRng.snapshot(),
      ...Object.fromEntries(
        this.#optional.map((o) => [o.spec.field, o.rng.snapshot()]),
      ),
    };
  }

  /** Moves the streams to a snapshot taken from streams of the same config. */
  resume(s: HostStreamsSnapshot): void {
    this.#sampler.seek(s.step);
    this.#noiseRng = Pcg32.restore(s.noise);
    for (const o of this.#optional) {
      const at = s[o.spec.field];
      if (!at) {
        throw new RangeError(
          `the snapshot has no ${o.spec.label} stream to resume`,
        );
      }
      o.rng = Pcg32.restore(at);
    }
    this.#step = s.step;
  }

  /** The 0-based step the next {@link HostStreams.next} call is for. */
  get step(): number {
    return this.#step;
  }

  /**
   * Inputs of the next step. The noise array and the optional streams'
   * arrays (uniforms, masks) are reused by the following call: copy them to
   * keep them.
   */
  next(): HostStep {
    const c = this.config;
    const t = this.#step++;
    const offsets = this.#sampler.next();
    const scalars = stepScalars(c.adamw, t, c.maxSteps);
    const optional: {
      -readonly [F in OptionalStream["field"]]?: Float32Array;
    } = {};
    for (const o of this.#optional) {
      optional[o.spec.field] = o.open.draw(o.rng, o.out);
    }
    if (!this.#noiseShape || !c.noise) {
      return { offsets, scalars, ...optional };
    }
    const noise = noiseForStep(this.#noiseRng, {
      rows: this.#noiseShape[0],
      cols: this.#noiseShape.slice(1).reduce((a, b) => a * b, 1),
      scale: c.noise.scale,
      precision: storesBf16(c.precision) ? "bf16" : "fp32",
      out: this.#noiseBuf!,
    });
    return { offsets, scalars, noise, ...optional };
  }
}

/**
 * SHA-256 (hex) over the versioned host inputs of a `steps`-step run: every
 * initial parameter, every step's batch offsets and scalars, and the noise
 * and each optional stream's draws (stochastic-rounding uniforms, dropout
 * masks: tagged, so a run without them hashes exactly as before) of the
 * first {@link DIGEST_NOISE_STEPS} steps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEED_RUN } from "./config.ts";
 * import { hostStreamsDigest } from "./host_streams.ts";
 * const a = await hostStreamsDigest(SEED_RUN, 10_000, 5);
 * const b = await hostStreamsDigest({ ...SEED_RUN, seed: 1 }, 10_000, 5);
 * assert.notEqual(a, b);
 * ```
 */
export async function hostStreamsDigest(
  config: TrainConfig,
  corpusLength: number,
  steps: number,
): Promise<string> {
  const parts: Uint8Array[] = [
    new TextEncoder().encode(`horizon-host-streams/${HOST_STREAMS_VERSION}\0`),
  ];
  const bytes = (a: Float32Array | Int32Array | Float64Array) =>
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  for (const [name, values] of initialParameters(config)) {
    parts.push(new TextEncoder().encode(`${name}\0`), bytes(values));
  }
  // Batch order and scalars do not depend on the noise, so they come from a
  // noise-free twin; noise is drawn only for the first steps.
  const plain = new HostStreams(
    { ...withoutDropout(config), noise: null, rounding: undefined },
    corpusLength,
  );
  const scalars = new Float64Array(steps * 3);
  const offsets = new Int32Array(steps * config.batchSize);
  for (let t = 0; t < steps; t++) {
    const s = plain.next();
    offsets.set(s.offsets, t * config.batchSize);
    scalars.set([s.scalars.lrWd, s.scalars.stepSize, s.scalars.bc2Sqrt], t * 3);
  }
  parts.push(bytes(offsets), bytes(scalars));
  if (config.noise) {
    const noisy = new HostStreams(config, corpusLength);
    for (let t = 0; t < Math.min(steps, DIGEST_NOISE_STEPS); t++) {
      parts.push(bytes(noisy.next().noise!));
    }
  }
  // Each optional stream, tagged, so a run without it hashes as before.
  for (const spec of OPTIONAL_STREAMS) {
    const open = spec.open(config);
    if (!open) continue;
    parts.push(new TextEncoder().encode(`${open.tag}\0`));
    const rng = new Pcg32(config.seed, spec.stream);
    // One buffer for every step: bytes() copies what is hashed.
    const out = new Float32Array(open.size);
    for (let t = 0; t < Math.min(steps, DIGEST_NOISE_STEPS); t++) {
      parts.push(bytes(open.draw(rng, out)));
    }
  }
  return await sha256Hex(concat(parts));
}

function withoutDropout(c: TrainConfig): TrainConfig {
  return c.model.dropout
    ? { ...c, model: { ...c.model, dropout: undefined } }
    : c;
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
