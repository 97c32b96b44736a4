/**
 * How CLIs end on user mistakes: one line on stderr, a non-zero exit code,
 * never a stack trace; and the strict parsing of option values that keeps
 * mistakes (`--steps 1e1`, `--seed 0x10`, `--threads 99`) from being
 * accepted.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { stopState } from "../process/lifeline.ts";
import { oneLine } from "../process/one_line.ts";

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Runs `main`, turning UsageError into exit 2 and any other error into a
 * one-line message and exit 1 (`HORIZON_DEBUG=1` prints the stack instead).
 * An error thrown after `stopSignal()` (lifeline.ts) aborted, such as the
 * reason thrown by `signal.throwIfAborted()`, is reported as
 * `stopped: <reason>` with exit 130 (SIGINT), 143 (SIGTERM) or 129 (parent
 * process ended). `Deno.exit` removes tracked temporary files (temp_files.ts)
 * when their cleanup is installed.
 */
export async function runCli(
  main: () => Promise<number | void>,
): Promise<never> {
  try {
    Deno.exit((await main()) ?? 0);
  } catch (e) {
    const stop = stopState();
    if (stop && !(e instanceof UsageError)) {
      if (Deno.env.get("HORIZON_DEBUG") && e !== stop.reason) console.error(e);
      console.error(`stopped: ${stop.reason}`);
      Deno.exit(stop.exitCode);
    }
    if (Deno.env.get("HORIZON_DEBUG")) console.error(e);
    else console.error(`error: ${oneLine(e)}`);
    Deno.exit(e instanceof UsageError ? 2 : 1);
  }
}

/** A token that reads as a negative number: `-5`, `-0.5`, `-.5`, `-1e3`. */
const NEGATIVE_NUMBER = /^-(?:[0-9]|\.[0-9])/;

/**
 * Rewrites `--opt -5` (and `-o -5`) into `--opt=-5` for string-typed options,
 * so a negative value reaches the option's own check ("must be >= 1")
 * instead of parseArgs's "argument is ambiguous". Stops at `--`.
 */
function joinNegativeValues(
  args: readonly string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): string[] {
  const longOf = (token: string): string | undefined => {
    if (token.startsWith("--") && !token.includes("=")) {
      const name = token.slice(2);
      return Object.hasOwn(options, name) && options[name].type === "string"
        ? name
        : undefined;
    }
    if (/^-[^-]$/.test(token)) {
      const short = token.slice(1);
      return Object.entries(options).find(([, o]) =>
        o.short === short && o.type === "string"
      )?.[0];
    }
    return undefined;
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i];
    if (token === "--") {
      out.push(...args.slice(i));
      break;
    }
    const name = longOf(token);
    if (name !== undefined && i + 1 < args.length) {
      const next = args[i + 1];
      if (NEGATIVE_NUMBER.test(next)) {
        out.push(`--${name}=${next}`);
        i++;
        continue;
      }
    }
    out.push(token);
  }
  return out;
}

/**
 * `node:util` parseArgs with every option declared in `options` (plus
 * `--help`), turning its errors into a one-line UsageError that lists the
 * valid options. A string option followed by a negative number
 * (`--steps -5`) takes it as its value.
 */
export function parseCliArgs<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
  allowPositionals = false,
) {
  const all = { ...options, help: { type: "boolean", short: "h" } } as const;
  try {
    return parseArgs({
      args: joinNegativeValues(args, all),
      options: all,
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    const valid = Object.keys(all).map((k) => `--${k}`).join(", ");
    // parseArgs's first sentence names the problem; the rest is advice.
    const first = String((e as Error).message).split("\n")[0].split(". ")[0]
      .replace(/\.$/, "");
    throw new UsageError(`${oneLine(first)} (valid options: ${valid})`);
  }
}

/** Bounds of {@linkcode intOption}: `min` required, `max` optional. */
export interface IntRange {
  readonly min: number;
  readonly max?: number;
  /**
   * What the error says the value must be, instead of `an integer >= min
   * ...`, e.g. `a positive integer`.
   */
  readonly label?: string;
}

/**
 * The integer value of option `--<name>`, or undefined when it was not
 * given. Only plain decimal integers (`/^-?[0-9]+$/`) within `range` and
 * within ±Number.MAX_SAFE_INTEGER are accepted; anything else (`1e1`,
 * `0x10`, `" 20"`, `2.5`, `-5` when min is 1) throws a UsageError such as
 * `--steps must be an integer >= 1 and <= 10000, got "1e1"`.
 *
 * @example
 * ```ts
 * import { intOption } from "./errors.ts";
 * intOption("steps", "20", { min: 1 }); // 20
 * intOption("steps", undefined, { min: 1 }); // undefined
 * ```
 */
export function intOption(
  name: string,
  value: string | undefined,
  range: IntRange,
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^-?[0-9]+$/.test(value) ? Number(value) : NaN;
  if (
    !Number.isSafeInteger(n) || n < range.min ||
    (range.max !== undefined && n > range.max)
  ) {
    const bounds = `>= ${range.min}${
      range.max !== undefined ? ` and <= ${range.max}` : ""
    }`;
    throw new UsageError(
      `--${name} must be ${range.label ?? `an integer ${bounds}`}, got ${
        JSON.stringify(value)
      }`,
    );
  }
  return n === 0 ? 0 : n; // no -0
}

/**
 * `--threads`: an integer from 1 to this machine's core count
 * (`navigator.hardwareConcurrency`), or undefined when not given. Errors
 * read `--threads must be in 1..2 (this machine has 2 cores), got "5"`.
 */
export function threadsOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const n = /^-?[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > cores) {
    throw new UsageError(
      `--threads must be in 1..${cores} (this machine has ${cores} core${
        cores === 1 ? "" : "s"
      }), got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Decimal or scientific notation: `1`, `-1`, `0.9`, `.5`, `3e-4`, `1E+7`. */
const NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * Parses a number written in decimal or scientific notation (`3e-4`, `1e-7`,
 * `0.9`, `-1`), as in `--set path=value`. Rejects what `Number()` would
 * quietly accept or turn into something else: `""`, surrounding or inner
 * whitespace, hex/octal/binary (`0x10`), `Infinity`, `NaN`, `1_000`, and
 * values too large for a finite double (`1e400`). Throws a UsageError
 * `expected a number (decimal or scientific notation, e.g. 0.9, -1, 3e-4),
 * got "..."`; callers may catch it to name the setting.
 *
 * @example
 * ```ts
 * import { numberValue } from "./errors.ts";
 * numberValue("3e-4"); // 0.0003
 * ```
 */
export function numberValue(text: string): number {
  const n = NUMBER.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) {
    throw new UsageError(
      `expected a number (decimal or scientific notation, e.g. 0.9, -1, 3e-4), got ${
        JSON.stringify(text)
      }`,
    );
  }
  return n;
}
