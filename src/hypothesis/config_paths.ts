/**
 * Configs as dotted paths: a config's leaves (`adamw.lr`, `noise`), the
 * paths where two configs differ, and the value of a path at a sweep point.
 *
 * @module
 */

import type { Override } from "./overrides.ts";
import { canonicalJson } from "../step/config.ts";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * A config (any JSON object) as dotted paths to its leaves (numbers,
 * strings, booleans, null, arrays), in key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flattenConfig } from "./config_paths.ts";
 * assert.deepEqual(
 *   [...flattenConfig({ adamw: { lr: 1e-3 }, noise: null })],
 *   [["adamw.lr", 1e-3], ["noise", null]],
 * );
 * ```
 */
export function flattenConfig(config: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (v: unknown, path: string) => {
    if (isPlainObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        walk(x, path ? `${path}.${k}` : k);
      }
    } else out.set(path, v);
  };
  walk(config, "");
  return out;
}

/** One path where two configs differ; `undefined`: absent on that side. */
export interface ConfigDifference {
  /** Dotted path, e.g. `model.norm`. */
  readonly path: string;
  /** The value in the first config. */
  readonly a: unknown;
  /** The value in the second config. */
  readonly b: unknown;
}

/**
 * The dotted paths whose values differ between two configs, at the finest
 * level both share: where both sides are objects the comparison goes down
 * into them; where one side is an object and the other a leaf (`noise:
 * null` against `noise: {...}`) that path is one difference. Order: `a`'s
 * key order, then paths only `b` has.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configDiff } from "./config_paths.ts";
 * assert.deepEqual(
 *   configDiff({ m: { norm: "rmsnorm", eps: 1e-5 } }, { m: { norm: "layernorm", eps: 1e-5 } }),
 *   [{ path: "m.norm", a: "rmsnorm", b: "layernorm" }],
 * );
 * ```
 */
export function configDiff(a: unknown, b: unknown): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (isPlainObject(x) && isPlainObject(y)) {
      const keys = [
        ...Object.keys(x),
        ...Object.keys(y).filter((k) => !Object.hasOwn(x, k)),
      ];
      for (const k of keys) {
        walk(
          Object.hasOwn(x, k) ? x[k] : undefined,
          Object.hasOwn(y, k) ? y[k] : undefined,
          path ? `${path}.${k}` : k,
        );
      }
      return;
    }
    const same = x === undefined || y === undefined
      ? x === y
      : canonicalJson(x) === canonicalJson(y);
    if (!same) out.push({ path, a: x, b: y });
  };
  walk(a, b, "");
  return out;
}

/**
 * The value of `path` at a point: the point's override of it, else the
 * hypothesis config's value (undefined when the config has no such path).
 */
export function valueAt(
  overrides: readonly Override[],
  path: string,
  config: unknown,
): unknown {
  const o = overrides.find((x) => x.path === path);
  return o ? o.value : flattenConfig(config).get(path);
}
