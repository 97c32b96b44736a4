/**
 * `deno task census <path>`: black-hole census of a model on disk.
 *
 * Exit codes: 0 done, 1 the model files are unusable, 2 bad usage.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { SafetensorsError } from "../io/safetensors.ts";
import { CensusError, runCensus } from "../census/census.ts";
import {
  censusMarkdown,
  censusText,
  writeTextFileAtomic,
} from "../census/report.ts";
import { TokenizerError } from "../census/tokenizer.ts";

const USAGE =
  `usage: deno task census <path> [--tensor NAME]... [--json] [--out report.md] [--top N]

Counts black holes (bit-identical embedding rows) in a model on disk.

  <path>           a .safetensors file, or a Hugging Face model folder
                   (model.safetensors, or shards with model.safetensors.index.json)
  --tensor NAME    analyse this tensor instead of the usual embedding /
                   lm_head names (repeatable)
  --json           print the full result as JSON instead of the summary
  --out FILE       also write a Markdown report to FILE (atomically)
  --top N          clusters listed per tensor in the summary and report (default 10)
  -h, --help       show this help`;

class UsageError extends Error {}

function debugRequested(): boolean {
  try {
    return Boolean(Deno.env.get("HORIZON_DEBUG"));
  } catch {
    return false; // no --allow-env
  }
}

/** Parses arguments; throws UsageError on bad usage. */
function parse(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        tensor: { type: "string", multiple: true },
        json: { type: "boolean", default: false },
        out: { type: "string" },
        top: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "missing <path> (a .safetensors file or a model folder)"
        : `expected one <path>, got ${positionals.length}: ${
          positionals.join(" ")
        }`,
    );
  }
  let top = 10;
  if (values.top !== undefined) {
    top = Number(values.top);
    if (!/^\d+$/.test(values.top) || !Number.isSafeInteger(top) || top < 1) {
      throw new UsageError(
        `--top must be a positive integer, got "${values.top}"`,
      );
    }
  }
  if (values.out !== undefined && values.out === "") {
    throw new UsageError("--out needs a file name");
  }
  return {
    help: false as const,
    path: positionals[0],
    tensors: values.tensor,
    json: values.json,
    out: values.out,
    top,
  };
}

/**
 * Runs the census CLI on `args`; returns the exit code. Writes results to
 * stdout and one-line `error: ...` messages to stderr.
 *
 * @example
 * ```ts ignore
 * import { censusMain } from "./census.ts";
 * Deno.exit(await censusMain(["models/gpt2", "--top", "5"]));
 * ```
 */
export async function censusMain(args: string[]): Promise<number> {
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    console.error("run with --help for usage");
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    const report = await runCensus(opts.path, { tensors: opts.tensors });
    if (opts.out !== undefined) {
      const command = ["deno task census", ...args].join(" ");
      await writeTextFileAtomic(
        opts.out,
        censusMarkdown(report, { top: opts.top, command }),
      );
    }
    if (opts.json) console.log(JSON.stringify(report, null, 2));
    else console.log(censusText(report, { top: opts.top }));
    if (opts.out !== undefined && !opts.json) {
      console.log(`report written to ${opts.out}`);
    }
    return 0;
  } catch (e) {
    if (
      e instanceof CensusError || e instanceof SafetensorsError ||
      e instanceof TokenizerError
    ) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    // Not a known user mistake: still one line, with the stack on request.
    console.error(`error: unexpected failure: ${(e as Error)?.message ?? e}`);
    if (debugRequested()) console.error((e as Error)?.stack);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await censusMain(Deno.args));
}
