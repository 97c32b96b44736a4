/**
 * How CLIs end on user mistakes: one line on stderr, a non-zero exit code,
 * never a stack trace.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Runs `main`, turning UsageError into exit 2 and any other error into a
 * one-line message and exit 1 (`HORIZON_DEBUG=1` prints the stack instead).
 */
export async function runCli(
  main: () => Promise<number | void>,
): Promise<never> {
  try {
    Deno.exit((await main()) ?? 0);
  } catch (e) {
    const err = e as Error;
    if (Deno.env.get("HORIZON_DEBUG")) console.error(err);
    else console.error(`error: ${err.message}`);
    Deno.exit(err instanceof UsageError ? 2 : 1);
  }
}

/**
 * `node:util` parseArgs with every option declared in `options` (plus
 * `--help`), turning its errors into a one-line UsageError that lists the
 * valid options.
 */
export function parseCliArgs<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
  allowPositionals = false,
) {
  const all = { ...options, help: { type: "boolean", short: "h" } } as const;
  try {
    return parseArgs({ args, options: all, allowPositionals, strict: true });
  } catch (e) {
    const valid = Object.keys(all).map((k) => `--${k}`).join(", ");
    throw new UsageError(
      `${(e as Error).message.split(".")[0]} (valid options: ${valid})`,
    );
  }
}
