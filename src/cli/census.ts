/**
 * `deno task census <path>`: black-hole census of a model on disk.
 *
 * Exit codes: 0 done, 1 the model files are unusable, 2 bad usage (including
 * an `--out` that would overwrite an input or a file that is not a census
 * report). Every failure is one `error: ...` line on stderr. A hub id
 * (`<org>/<name>[@revision]`) is read by byte ranges (census/hub/): a wrong
 * id or a missing token is exit 2, a hub that fails is exit 1.
 *
 * @module
 */

import { SafetensorsError } from "../io/safetensors/mod.ts";
import { CensusError, runCensus } from "../census/census.ts";
import {
  censusMarkdown,
  censusText,
  isCensusReportText,
  writeTextFileAtomic,
} from "../census/report.ts";
import { TokenizerError } from "../census/tokenizer.ts";
import { GgufError } from "../census/gguf/error.ts";
import { HubError } from "../census/hub/hub_error.ts";
import { formatBytes, hubProgressReporter } from "../census/hub/progress.ts";
import {
  intOption,
  type IntRange,
  parseCliArgs,
  UsageError,
} from "./errors.ts";
import { oneLine } from "../process/one_line.ts";
import type { NearTolerance } from "../census/near/near_rows.ts";
import { type IndicatorRequest, parseTokenIds } from "../census/near/extras.ts";

const USAGE =
  `usage: deno task census <path> [--tensor NAME]... [--json] [--out report.md [--force]] [--top N]
         [--near ULPS | --cosine T] [--indicators] [--unused IDS] [--unused-pattern RE]

Counts black holes (bit-identical embedding rows) in a model on disk. Rows
holding NaN or Inf values are never counted; they are listed apart.

  <path>           a .safetensors file, or a Hugging Face model folder
                   (model.safetensors, or shards with model.safetensors.index.json),
                   or a llama.cpp .gguf file (or a folder holding one),
                   or a hub id <org>/<name>[@revision] (when no such path
                   exists): only the headers, embedding and head byte ranges
                   and tokenizer.json are fetched (progress on stderr) and
                   kept in .cache/hub/ ($HORIZON_CACHE_DIR/hub/), so a second
                   run fetches no file bytes. HF_ENDPOINT: another hub or a
                   mirror (default https://huggingface.co); HF_TOKEN: token
                   for gated or private repos.
  --tensor NAME    analyse this tensor instead of the usual embedding /
                   lm_head names (repeatable)
  --json           print the full result as JSON instead of the summary
  --out FILE       also write a Markdown report to FILE (atomically); FILE
                   may be new or a previous census report, never an input
  --force          let --out replace an existing file that is not a census report
  --top N          clusters listed per tensor in the summary and report (default 10)
  --near ULPS      also list clusters of near-identical rows: every component
                   within ULPS units in the last place of the stored dtype
                   (BF16, F16, F32); exact, reported apart from black holes
  --cosine T       the same with cosine similarity >= T (0 < T < 1)
  --indicators     rank rows by under-trained-token indicators (Magikarp):
                   row norm, distance to the mean of known-unused rows (the
                   exact black-hole rows, --unused, --unused-pattern)
  --unused IDS     token ids known to be unused, e.g. 3,4,100-120 (implies
                   --indicators)
  --unused-pattern RE
                   tokens whose string matches the regular expression RE are
                   known unused (implies --indicators)
  --indicator-top N  rows per indicator table (default 20)
  -h, --help       show this help

Exit codes: 0 done; 1 unusable model files, or the hub failed (unreachable,
no range support, a truncated or changing file); 2 bad usage, including a
hub id that does not exist (404) or needs a token (401/403).`;

const OPTIONS = {
  tensor: { type: "string", multiple: true },
  json: { type: "boolean" },
  out: { type: "string" },
  force: { type: "boolean" },
  top: { type: "string" },
  near: { type: "string" },
  cosine: { type: "string" },
  indicators: { type: "boolean" },
  unused: { type: "string" },
  "unused-pattern": { type: "string" },
  "indicator-top": { type: "string" },
} as const;

/** Largest existing file `--out` reads to see whether it is a census report. */
const MAX_REPORT_BYTES = 64 << 20;

function debugRequested(): boolean {
  try {
    return Boolean(Deno.env.get("HORIZON_DEBUG"));
  } catch {
    return false; // no --allow-env
  }
}

/** Parses arguments; throws UsageError on bad usage. */
function parse(args: string[]) {
  const { values, positionals } = parseCliArgs(args, OPTIONS, true);
  if (values.help) return { help: true as const };
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "missing <path> (a .safetensors file or a model folder); see --help"
        : `expected one <path>, got ${positionals.length}: ${
          positionals.join(" ")
        }`,
    );
  }
  if (positionals[0] === "") throw new UsageError("<path> is empty");
  const top = intOption("top", values.top, POSITIVE) ?? 10;
  if (values.out === "") throw new UsageError("--out needs a file name");
  if (values.force && values.out === undefined) {
    throw new UsageError("--force only applies to --out FILE");
  }
  return {
    help: false as const,
    near: nearOption(values.near, values.cosine),
    indicators: indicatorOption(values),
    path: positionals[0],
    tensors: values.tensor,
    json: values.json ?? false,
    out: values.out,
    force: values.force ?? false,
    top,
  };
}

/** The range of the whole-number flags (`--top`, `--near`, `--indicator-top`). */
const POSITIVE: IntRange = { min: 1, label: "a positive integer" };

/** `--near ULPS` or `--cosine T` (not both). */
function nearOption(
  near: string | undefined,
  cosine: string | undefined,
): NearTolerance | undefined {
  if (near !== undefined && cosine !== undefined) {
    throw new UsageError("--near and --cosine are alternatives; give one");
  }
  if (near !== undefined) {
    const ulps = intOption("near", near, POSITIVE)!;
    if (ulps > 2 ** 30) {
      throw new UsageError(`--near must be at most 2^30 ulps, got "${near}"`);
    }
    return { ulps };
  }
  if (cosine === undefined) return undefined;
  const t = Number(cosine);
  if (!/^\s*[0-9.eE+-]+\s*$/.test(cosine) || !(t > 0 && t < 1)) {
    throw new UsageError(
      `--cosine must be a number between 0 and 1 (exclusive), got "${cosine}"`,
    );
  }
  return { cosine: t };
}

/** The indicator flags: undefined when none is given. */
function indicatorOption(values: {
  indicators?: boolean;
  unused?: string;
  "unused-pattern"?: string;
  "indicator-top"?: string;
}): IndicatorRequest | undefined {
  const top = intOption(
    "indicator-top",
    values["indicator-top"],
    POSITIVE,
  );
  if (
    !values.indicators && values.unused === undefined &&
    values["unused-pattern"] === undefined && top === undefined
  ) return undefined;
  let unusedIds: number[] | undefined;
  if (values.unused !== undefined) {
    try {
      unusedIds = parseTokenIds(values.unused);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  let unusedPattern: RegExp | undefined;
  const pattern = values["unused-pattern"];
  if (pattern !== undefined) {
    try {
      unusedPattern = new RegExp(pattern, "u");
    } catch (e) {
      throw new UsageError(
        `--unused-pattern is not a regular expression: ${(e as Error).message}`,
      );
    }
  }
  return { top: top ?? 20, unusedIds, unusedPattern };
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash) || "/";
}

/** `Deno.stat` (following symlinks), null when nothing is there. */
async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new UsageError(
      `--out ${path}: cannot access (${(e as Error).message})`,
    );
  }
}

/**
 * Checks, before the model is opened, that `--out` can be written: a file
 * name (not a folder, not a device), in an existing, writable folder.
 */
async function checkOutLocation(out: string): Promise<void> {
  if (out.endsWith("/")) {
    throw new UsageError(`--out ${out} names a folder; give a file name`);
  }
  const target = await statOrNull(out);
  if (target?.isDirectory) {
    throw new UsageError(`--out ${out} is a folder; give a file name`);
  }
  if (target !== null && !target.isFile) {
    throw new UsageError(`--out ${out} exists and is not a regular file`);
  }
  const parent = dirname(out);
  const folder = await statOrNull(parent);
  if (folder === null || !folder.isDirectory) {
    throw new UsageError(
      `--out ${out}: folder ${parent} ${
        folder === null ? "does not exist" : "is not a folder"
      }`,
    );
  }
  try {
    // No access(2) in Deno: create (and remove) a file where the report goes.
    const probe = await Deno.makeTempFile({
      dir: parent,
      prefix: ".census-probe-",
    });
    await Deno.remove(probe);
  } catch (e) {
    throw new UsageError(
      `--out ${out}: cannot write in ${parent} (${(e as Error).message})`,
    );
  }
}

async function realPathOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.realPath(path);
  } catch {
    return null;
  }
}

/** Whether the file at `path` holds a census report (Markdown or JSON). */
async function holdsCensusReport(
  path: string,
  info: Deno.FileInfo,
): Promise<boolean> {
  if (info.size > MAX_REPORT_BYTES) return false;
  try {
    const bytes = await Deno.readFile(path);
    return isCensusReportText(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes),
    );
  } catch {
    return false; // unreadable or not UTF-8: not a report we wrote
  }
}

/**
 * Checks that `--out` is none of the census's `inputs` (same real path, or
 * same device and inode: symlinks and hard links too), is not named like
 * weights, and, unless `force`, that an existing file there is a previous
 * census report.
 */
async function checkOutTarget(
  out: string,
  inputs: readonly string[],
  force: boolean,
): Promise<void> {
  const target = await statOrNull(out);
  if (target !== null) {
    const input = await sameFileAs(out, target, inputs);
    if (input !== undefined) {
      throw new UsageError(
        `--out ${out} is ${
          input === out ? "" : `the same file as ${input}, `
        }an input of this census; refusing to overwrite it`,
      );
    }
  }
  const weightsExt = [".safetensors", ".gguf"].find((x) => out.endsWith(x));
  if (weightsExt !== undefined) {
    throw new UsageError(
      `--out ${out}: the report is Markdown; refusing a ${weightsExt} name`,
    );
  }
  if (target === null) return;
  if (!target.isFile) {
    throw new UsageError(`--out ${out} exists and is not a regular file`);
  }
  if (!force && !await holdsCensusReport(out, target)) {
    throw new UsageError(
      `--out ${out} exists and is not a census report; pass --force to replace it`,
    );
  }
}

/** The first of `inputs` that is the file at `path` (stat: `info`), if any. */
async function sameFileAs(
  path: string,
  info: Deno.FileInfo,
  inputs: readonly string[],
): Promise<string | undefined> {
  const real = await realPathOrNull(path);
  for (const input of inputs) {
    const other = await Deno.stat(input).catch(() => null);
    if (other === null) continue;
    const sameInode = info.ino !== null && other.ino !== null &&
      info.dev === other.dev && info.ino === other.ino;
    if (sameInode || (real !== null && real === await realPathOrNull(input))) {
      return input;
    }
  }
  return undefined;
}

/**
 * Runs the census CLI on `args`; returns the exit code. Writes results to
 * stdout and one-line `error: ...` messages to stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { censusMain } from "./census.ts";
 * import { isCensusReportText } from "../census/report.ts";
 * import { writeSafetensors } from "../io/safetensors/mod.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const data = new Float32Array([1, 2, 0, 0, 0, 0, 3, 4]); // rows 1, 2 equal
 *   await writeSafetensors(`${dir}/model.safetensors`, {
 *     "model.embed_tokens.weight": { dtype: "F32", shape: [4, 2], data },
 *   });
 *   const out = `${dir}/census.md`;
 *   assert.equal(await censusMain([dir, "--top", "5", "--out", out]), 0);
 *   assert.ok(isCensusReportText(await Deno.readTextFile(out)));
 *   // A wrong path is one error line and exit code 1.
 *   assert.equal(await censusMain([`${dir}/missing`]), 1);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function censusMain(args: string[]): Promise<number> {
  try {
    const opts = parse(args);
    if (opts.help) {
      console.log(USAGE);
      return 0;
    }
    const out = opts.out;
    if (out !== undefined) await checkOutLocation(out);
    let inputs: readonly string[] = [];
    const report = await runCensus(opts.path, {
      tensors: opts.tensors,
      near: opts.near,
      indicators: opts.indicators,
      hub: {
        onProgress: hubProgressReporter(),
        onDone: ({ fetchedBytes, requests }) =>
          console.error(
            `hub: ${formatBytes(fetchedBytes)} fetched in ${requests} request${
              requests === 1 ? "" : "s"
            }`,
          ),
      },
      beforeScan: out === undefined ? undefined : async (files) => {
        inputs = files;
        await checkOutTarget(out, files, opts.force);
      },
    });
    if (out !== undefined) {
      // Again, in case the file appeared while the model was read.
      await checkOutTarget(out, inputs, opts.force);
      const command = ["deno task census", ...args].join(" ");
      await writeTextFileAtomic(
        out,
        censusMarkdown(report, { top: opts.top, command }),
      );
    }
    if (opts.json) console.log(JSON.stringify(report, null, 2));
    else console.log(censusText(report, { top: opts.top }));
    if (out !== undefined && !opts.json) {
      console.log(`report written to ${out}`);
    }
    return 0;
  } catch (e) {
    const message = oneLine(e);
    if (e instanceof UsageError) {
      console.error(`error: ${message}`);
      return 2;
    }
    if (e instanceof HubError) {
      console.error(`error: ${message}`);
      return e.exitCode;
    }
    if (e instanceof CensusError && e.code === "bad-option") {
      // A flag value the matrix cannot serve (a --near/--cosine too loose).
      console.error(`error: ${message}`);
      return 2;
    }
    if (
      e instanceof CensusError || e instanceof SafetensorsError ||
      e instanceof TokenizerError || e instanceof GgufError
    ) {
      console.error(`error: ${message}`);
      return 1;
    }
    // Not a known user mistake: still one line, with the stack on request.
    console.error(`error: unexpected failure: ${message}`);
    if (debugRequested()) console.error((e as Error)?.stack);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await censusMain(Deno.args));
}
