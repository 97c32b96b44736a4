/**
 * Validation of a {@link TrainConfig} before any work: every field is
 * checked for type and range, unknown fields are rejected (a typo such as
 * `adamw.Lr` would otherwise train with the default), and the error names the
 * field in one line.
 *
 * @module
 */

import { parameterSpecs } from "../model/config.ts";
import type { TrainConfig } from "./config.ts";
import { ROUNDING_MODES } from "./stochastic_rounding.ts";
import {
  formatGiB,
  MAX_TRAINING_MEMORY_BYTES,
  trainingMemoryBytes,
} from "./memory.ts";

/** A config field that cannot run; `path` is the dotted field name. */
export class ConfigError extends RangeError {
  /** Error name, shown in messages and stack traces. */
  override name = "ConfigError";
  /** Dotted path of the offending field, e.g. `adamw.lr`. */
  readonly path: string;
  /**
   * Builds the error for the field at `path`; `problem` completes the sentence
   * "config: <path> ...".
   */
  constructor(path: string, problem: string) {
    super(`config: ${path} ${problem}`);
    this.path = path;
  }
}

/** The enumerations a config may name, with their allowed values. */
export const CONFIG_ENUMS = {
  "model.norm": ["layernorm", "rmsnorm"],
  precision: ["bf16", "bf16-pure", "fp32"],
  decay: ["hf-trainer", "matrices-only"],
  objective: ["double-shift", "next-token"],
  embeddingInit: ["qwen", "gpt2"],
} as const;

/** Largest vocabulary a byte corpus can use. */
const MAX_VOCAB = 256;

type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}

/**
 * -0 and 0 are one value to a reader and to the record's name, but a -0
 * compiles to other graph bytes, hence another run key: the two would share
 * a record file under different keys and each overwrite the other.
 */
function noNegativeZero(path: string, v: number): void {
  if (Object.is(v, -0)) {
    throw new ConfigError(
      path,
      "is -0: write 0 (a negative zero would be a second run key for the same config)",
    );
  }
}

class Checker {
  constructor(readonly root: Obj) {}

  object(
    path: string,
    allowed: readonly string[],
    optional: readonly string[] = [],
  ): Obj {
    const v = path === "" ? this.root : this.get(path);
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      throw new ConfigError(
        path || "config",
        `must be an object, got ${describe(v)}`,
      );
    }
    const o = v as Obj;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k) && !optional.includes(k)) {
        const where = path ? `${path}.${k}` : k;
        throw new ConfigError(
          where,
          `is not a config field (${path || "config"} has: ${
            [...allowed, ...optional].join(", ")
          })`,
        );
      }
    }
    for (const k of allowed) {
      if (!(k in o)) {
        throw new ConfigError(path ? `${path}.${k}` : k, "is missing");
      }
    }
    return o;
  }

  get(path: string): unknown {
    let v: unknown = this.root;
    for (const part of path.split(".")) v = (v as Obj)[part];
    return v;
  }

  number(path: string, ok: (x: number) => boolean, rule: string): number {
    const v = this.get(path);
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ConfigError(
        path,
        `must be a finite number, got ${describe(v)}`,
      );
    }
    noNegativeZero(path, v);
    if (!ok(v)) throw new ConfigError(path, `must be ${rule}, got ${v}`);
    return v;
  }

  integer(path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.get(path);
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      throw new ConfigError(path, `must be an integer, got ${describe(v)}`);
    }
    noNegativeZero(path, v);
    if (v < min || v > max) {
      throw new ConfigError(
        path,
        max === Number.MAX_SAFE_INTEGER
          ? `must be >= ${min}, got ${v}`
          : `must be in ${min}..${max}, got ${v}`,
      );
    }
    return v;
  }

  oneOf(path: keyof typeof CONFIG_ENUMS): void {
    const v = this.get(path);
    const allowed: readonly string[] = CONFIG_ENUMS[path];
    if (typeof v !== "string" || !allowed.includes(v)) {
      throw new ConfigError(
        path,
        `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${
          describe(v)
        }`,
      );
    }
  }

  boolean(path: string): boolean {
    const v = this.get(path);
    if (typeof v !== "boolean") {
      throw new ConfigError(path, `must be true or false, got ${describe(v)}`);
    }
    return v;
  }
}

/**
 * Refuses a config whose sizes (batch, sequence, model dimensions) would
 * need more than {@link MAX_TRAINING_MEMORY_BYTES} to train, naming the
 * sizes, the estimate and the limit.
 */
function checkMemory(config: TrainConfig): void {
  const bytes = trainingMemoryBytes(config);
  if (bytes <= MAX_TRAINING_MEMORY_BYTES) return;
  const m = config.model;
  const params = trainingMemoryBytes({ ...config, batchSize: 0 });
  throw new ConfigError(
    params > bytes / 2 ? "model.dModel" : "batchSize",
    `makes the run too large: batchSize ${config.batchSize}, seqLen ${config.seqLen}, model.dModel ${m.dModel}, model.nLayer ${m.nLayer}, model.nHead ${m.nHead}, model.vocabSize ${m.vocabSize} would need about ${
      formatGiB(bytes)
    } to train; the limit is ${
      formatGiB(MAX_TRAINING_MEMORY_BYTES)
    } (MAX_TRAINING_MEMORY_BYTES in src/step/memory.ts)`,
  );
}

/**
 * Throws a {@link ConfigError} naming the first field of `config` that is
 * missing, unknown, of the wrong type or out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEED_RUN } from "./config.ts";
 * import { validateTrainConfig } from "./validate.ts";
 * validateTrainConfig(SEED_RUN);
 * assert.throws(
 *   () => validateTrainConfig({ ...SEED_RUN, adamw: { ...SEED_RUN.adamw, lr: -1e-3 } }),
 *   /adamw\.lr must be >= 0/,
 * );
 * ```
 */
export function validateTrainConfig(
  config: unknown,
): asserts config is TrainConfig {
  const c = new Checker(config as Obj);
  c.object(
    "",
    [
      "model",
      "batchSize",
      "seqLen",
      "maxSteps",
      "precision",
      "adamw",
      "clipNorm",
      "decay",
      "objective",
      "embeddingInit",
      "noise",
      "seed",
    ],
    ["autocast", "rounding"],
  );
  c.object("model", [
    "vocabSize",
    "dModel",
    "nLayer",
    "nHead",
    "context",
    "norm",
    "normEps",
    "tiedHead",
  ], ["dropout"]);
  c.integer("model.vocabSize", 1, MAX_VOCAB);
  const d = c.integer("model.dModel", 1);
  c.integer("model.nLayer", 1);
  const heads = c.integer("model.nHead", 1);
  if (d % heads !== 0) {
    throw new ConfigError(
      "model.nHead",
      `(${heads}) must divide model.dModel (${d})`,
    );
  }
  const context = c.integer("model.context", 1);
  c.oneOf("model.norm");
  c.number("model.normEps", (x) => x > 0, "> 0");
  c.boolean("model.tiedHead");

  c.integer("batchSize", 1);
  c.integer("seqLen", 1, context);
  c.integer("maxSteps", 1);
  c.oneOf("precision");
  // Before the noise check, which lists the model's parameters (one entry
  // per layer: a billion layers would not fit).
  checkMemory(config as TrainConfig);

  c.object("adamw", ["lr", "beta1", "beta2", "eps", "weightDecay"]);
  c.number("adamw.lr", (x) => x >= 0, ">= 0");
  c.number("adamw.beta1", (x) => x >= 0 && x < 1, "in [0, 1)");
  c.number("adamw.beta2", (x) => x >= 0 && x < 1, "in [0, 1)");
  c.number("adamw.eps", (x) => x > 0, "> 0");
  c.number("adamw.weightDecay", (x) => x >= 0, ">= 0");

  if (c.get("clipNorm") !== null) {
    c.number("clipNorm", (x) => x > 0, "> 0 (or null: no clipping)");
  }
  c.oneOf("decay");
  c.oneOf("objective");
  c.oneOf("embeddingInit");
  if (c.get("noise") !== null) {
    c.object("noise", ["param", "scale"]);
    const p = c.get("noise.param");
    if (typeof p !== "string" || p === "") {
      throw new ConfigError(
        "noise.param",
        `must be a parameter name, got ${describe(p)}`,
      );
    }
    const names = parameterSpecs(c.get("model") as TrainConfig["model"]).map((
      s,
    ) => s.name);
    if (!names.includes(p)) {
      throw new ConfigError(
        "noise.param",
        `must name a parameter of the model (e.g. "transformer.wte.weight"), got ${
          describe(p)
        }`,
      );
    }
    c.number("noise.scale", (x) => x >= 0, ">= 0");
  }
  c.integer("seed", 0);
  if (c.get("autocast") !== undefined) {
    const autocast = c.boolean("autocast");
    const precision = c.get("precision");
    if (autocast && precision !== "bf16") {
      throw new ConfigError(
        "autocast",
        `needs precision "bf16" (bf16-pure already includes it), got ${
          describe(precision)
        }`,
      );
    }
  }
  checkRounding(c);
  checkDropout(c);
}

/** `model.dropout`: probabilities in [0, 1), in float32 arithmetic. */
function checkDropout(c: Checker): void {
  if (c.get("model.dropout") === undefined) return;
  c.object("model.dropout", ["embd", "attn", "resid"]);
  for (const k of ["embd", "attn", "resid"]) {
    c.number(`model.dropout.${k}`, (x) => x >= 0 && x < 1, "in [0, 1)");
  }
  const precision = c.get("precision");
  if (precision !== "bf16" && precision !== "fp32") {
    throw new ConfigError(
      "model.dropout",
      `needs precision "bf16" or "fp32" (float32 activations), got ${
        describe(precision)
      }`,
    );
  }
  if (c.get("autocast") === true) {
    throw new ConfigError(
      "model.dropout",
      "cannot be combined with autocast (its bf16 matrix products have no dropout here)",
    );
  }
}

/** `rounding`: a known mode, on a precision that stores bf16. */
function checkRounding(c: Checker): void {
  const rounding = c.get("rounding");
  if (rounding === undefined) return;
  if (!(ROUNDING_MODES as readonly unknown[]).includes(rounding)) {
    throw new ConfigError(
      "rounding",
      `must be ${
        ROUNDING_MODES.map((m) => `"${m}"`).join(" or ")
      } (omit it for round-to-nearest-even), got ${describe(rounding)}`,
    );
  }
  const precision = c.get("precision");
  if (precision === "fp32") {
    throw new ConfigError(
      "rounding",
      `"${rounding}" needs a precision that stores bf16 ("bf16" or "bf16-pure"); fp32 stores float32 values and rounds nothing`,
    );
  }
}
