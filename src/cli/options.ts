/**
 * The options whose value is one of a few names: `--tier` and `--backend`
 * (and bench's `--backends` list). Every CLI rejects a bad value with the
 * same one line, naming the flag, the allowed values and what was given,
 * e.g. `--tier must be one of: smoke, full, got "medium"` (exit 2 through
 * runCli, like every UsageError).
 *
 * @module
 */

import type { Tier } from "../hypothesis/types.ts";
import type { BackendName } from "../runtime/engine.ts";
import { UsageError } from "./errors.ts";

/** The tiers, in the order usage lines list them. */
export const TIERS: readonly Tier[] = ["smoke", "full"];

/** The backends a run can name, in the order usage lines list them. */
export const BACKENDS: readonly BackendName[] = ["cpu", "wasm", "webgpu"];

/**
 * `value` when it is one of `choices`, undefined when the option was not
 * given; otherwise a UsageError
 * `--<name> must be one of: a, b, got "x"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choiceOption } from "./options.ts";
 *
 * assert.equal(choiceOption("mode", "b", ["a", "b"]), "b");
 * assert.throws(() => choiceOption("mode", "c", ["a", "b"]), {
 *   message: '--mode must be one of: a, b, got "c"',
 * });
 * ```
 */
export function choiceOption<T extends string>(
  name: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(
      `--${name} must be one of: ${choices.join(", ")}, got ${
        JSON.stringify(value)
      }`,
    );
  }
  return value as T;
}

/** `--tier`: smoke or full, or undefined when not given (callers default). */
export function tierOption(value: string | undefined): Tier | undefined {
  return choiceOption("tier", value, TIERS);
}

/** What {@linkcode backendOption} accepts besides the backends. */
export interface BackendOptionOptions {
  /** Whether `auto` (the best backend this machine has) is allowed. */
  readonly auto: boolean;
}

/**
 * `--backend`: cpu, wasm or webgpu, and `auto` where the CLI picks one;
 * undefined when not given.
 */
export function backendOption(
  value: string | undefined,
  options: { readonly auto: true },
): BackendName | "auto" | undefined;
export function backendOption(
  value: string | undefined,
  options?: { readonly auto: false },
): BackendName | undefined;
export function backendOption(
  value: string | undefined,
  options: BackendOptionOptions = { auto: false },
): BackendName | "auto" | undefined {
  return choiceOption<BackendName | "auto">(
    "backend",
    value,
    options.auto ? ["auto", ...BACKENDS] : BACKENDS,
  );
}

/**
 * A comma-separated list of backends such as bench's `--backends
 * cpu,webgpu` (spaces around names ignored), each checked as
 * {@linkcode choiceOption} does under the option's name; undefined when not
 * given.
 */
export function backendListOption(
  name: string,
  value: string | undefined,
): BackendName[] | undefined {
  if (value === undefined) return undefined;
  return value.split(",").map((b) => choiceOption(name, b.trim(), BACKENDS)!);
}
