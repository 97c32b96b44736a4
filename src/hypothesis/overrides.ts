/**
 * Config overrides by dotted path (`adamw.lr=3e-4`, `noise.scale=1e-7`), as
 * given to `deno task run --set` and used by sweeps. An override names an
 * existing field; the result is validated like a hypothesis file, and the run
 * key follows the effective config.
 *
 * @module
 */

import { canonicalJson, type TrainConfig } from "../step/config.ts";
import { ConfigError, validateTrainConfig } from "../step/validate.ts";

/** One parsed override. */
export interface Override {
  /** Dotted field path, e.g. `adamw.lr`. */
  readonly path: string;
  /**
   * The value: a number, `true`/`false`, `null` (e.g. `noise=null` removes an
   * optional block) or a bare word.
   */
  readonly value: number | boolean | string | null;
}

/** Parameter that receives noise when `noise.scale` is set on a config without noise. */
export const DEFAULT_NOISE_PARAM = "transformer.wte.weight";

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Parses `path=value`. Values: a decimal or scientific number, `true`,
 * `false`, `null`, or a bare word (an enum value such as `rmsnorm`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOverride } from "./overrides.ts";
 * assert.deepEqual(parseOverride("adamw.lr=3e-4"), { path: "adamw.lr", value: 3e-4 });
 * assert.deepEqual(parseOverride("model.norm=rmsnorm"), { path: "model.norm", value: "rmsnorm" });
 * assert.throws(() => parseOverride("adamw.lr"), /path=value/);
 * ```
 */
export function parseOverride(text: string): Override {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new ConfigError(
      text || "(empty)",
      "is not an override: write path=value, e.g. adamw.lr=3e-4",
    );
  }
  const path = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(path)) {
    throw new ConfigError(path, "is not a dotted config path (e.g. adamw.lr)");
  }
  let value: Override["value"];
  if (NUMBER.test(raw)) {
    value = Number(raw);
    if (!Number.isFinite(value)) {
      throw new ConfigError(path, `value ${raw} is not a finite number`);
    }
  } else if (raw === "true" || raw === "false") value = raw === "true";
  else if (raw === "null") value = null;
  else if (/^[A-Za-z][A-Za-z0-9._-]*$/.test(raw)) value = raw;
  else {
    throw new ConfigError(
      path,
      `value ${
        JSON.stringify(raw)
      } is not a number, true, false, null or a word`,
    );
  }
  return { path, value };
}

/** The canonical text of an override (as stored in a run record). */
export function overrideText(o: Override): string {
  return `${o.path}=${
    typeof o.value === "string" ? o.value : canonicalJson(o.value)
  }`;
}

/**
 * `config` with the overrides applied in order, validated. Throws a
 * ConfigError naming the field when a path does not exist or the result is
 * out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEED_RUN } from "../step/config.ts";
 * import { applyOverrides, parseOverride } from "./overrides.ts";
 * const c = applyOverrides(SEED_RUN, [parseOverride("noise.scale=1e-7")]);
 * assert.deepEqual(c.noise, { param: "transformer.wte.weight", scale: 1e-7 });
 * assert.throws(() => applyOverrides(SEED_RUN, [parseOverride("adamw.Lr=1")]), /adamw\.Lr/);
 * ```
 */
export function applyOverrides(
  config: TrainConfig,
  overrides: readonly Override[],
): TrainConfig {
  const root = structuredClone(config) as unknown as Record<string, unknown>;
  for (const { path, value } of overrides) {
    const parts = path.split(".");
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts[i];
      const where = parts.slice(0, i + 1).join(".");
      if (!(key in node)) {
        throw new ConfigError(where, "is not a config field");
      }
      if (where === "noise" && node[key] === null) {
        // Setting a noise field on a run without noise turns noise on.
        node[key] = { param: DEFAULT_NOISE_PARAM, scale: 0 };
      }
      const next = node[key];
      if (next === null || typeof next !== "object" || Array.isArray(next)) {
        throw new ConfigError(where, "is not an object with fields");
      }
      node = next as Record<string, unknown>;
    }
    const last = parts[parts.length - 1];
    const optional = path === "autocast" || path === "rounding";
    if (!(last in node) && !optional) {
      throw new ConfigError(path, "is not a config field");
    }
    node[last] = value;
  }
  validateTrainConfig(root);
  return root as unknown as TrainConfig;
}
