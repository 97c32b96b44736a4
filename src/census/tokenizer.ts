/**
 * Token strings from a Hugging Face `tokenizer.json`, for labelling rows.
 *
 * Reads `model.vocab` (an object `{token: id}` for BPE / WordPiece /
 * WordLevel, or an array of `[token, score]` for Unigram, where the id is the
 * position) and `added_tokens` (`[{id, content}]`). Token strings are kept
 * as stored (byte-level BPE shows a leading space as `Ġ`); printing goes
 * through {@linkcode escapeTokenText}.
 *
 * @module
 */

/** Token id -> stored token string. */
export interface TokenTable {
  /** The file read. */
  path: string;
  /** Number of ids with a string. */
  size: number;
  /** The string of `id`, or `null` when the tokenizer has none. */
  label(id: number): string | null;
}

/**
 * `tokenizer.json` is present but unusable. The message is
 * `<path>: <reason>`.
 *
 * @example
 * ```ts
 * import { TokenizerError } from "./tokenizer.ts";
 * const e = new TokenizerError("m/tokenizer.json", "not a JSON object");
 * e.message; // "m/tokenizer.json: not a JSON object"
 * ```
 */
export class TokenizerError extends Error {
  /** The file. */
  readonly path: string;
  /** What is wrong with it. */
  readonly reason: string;

  /** Builds the error. */
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = "TokenizerError";
    this.path = path;
    this.reason = reason;
  }
}

/**
 * Parses the text of a `tokenizer.json`.
 *
 * @example
 * ```ts
 * import { parseTokenizerJson } from "./tokenizer.ts";
 * const t = parseTokenizerJson(JSON.stringify({
 *   model: { type: "BPE", vocab: { "a": 0, "Ġb": 1 } },
 *   added_tokens: [{ id: 2, content: "<|end|>" }],
 * }));
 * t.label(1); // "Ġb"
 * t.label(2); // "<|end|>"
 * t.label(3); // null
 * ```
 */
export function parseTokenizerJson(
  text: string,
  path = "tokenizer.json",
): TokenTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(path, `not valid JSON (${(e as Error).message})`);
  }
  const root = json as {
    model?: { vocab?: unknown };
    added_tokens?: unknown;
  } | null;
  if (typeof root !== "object" || root === null) {
    throw new TokenizerError(path, "not a JSON object");
  }
  const byId = new Map<number, string>();
  const vocab = root.model?.vocab;
  const isId = (v: unknown): v is number =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (Array.isArray(vocab)) {
    vocab.forEach((entry, id) => {
      const piece = Array.isArray(entry) ? entry[0] : undefined;
      if (typeof piece === "string") byId.set(id, piece);
    });
  } else if (typeof vocab === "object" && vocab !== null) {
    for (const [token, id] of Object.entries(vocab)) {
      if (isId(id)) byId.set(id, token);
    }
  } else {
    throw new TokenizerError(
      path,
      'no "model.vocab" to read token strings from',
    );
  }
  if (Array.isArray(root.added_tokens)) {
    for (const t of root.added_tokens) {
      const { id, content } = (t ?? {}) as { id?: unknown; content?: unknown };
      if (isId(id) && typeof content === "string") byId.set(id, content);
    }
  }
  return { path, size: byId.size, label: (id) => byId.get(id) ?? null };
}

/**
 * Loads `tokenizer.json` from `dir`; `null` when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadTokenizer } from "./tokenizer.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   assert.equal(await loadTokenizer(dir), null);
 *   const vocab = { a: 0, b: 1 };
 *   const added = [{ id: 2, content: "<|endoftext|>" }];
 *   await Deno.writeTextFile(
 *     `${dir}/tokenizer.json`,
 *     JSON.stringify({ model: { vocab }, added_tokens: added }),
 *   );
 *   const t = await loadTokenizer(dir);
 *   assert.equal(t?.label(2), "<|endoftext|>");
 *   assert.equal(t?.label(3), null);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function loadTokenizer(dir: string): Promise<TokenTable | null> {
  const path = `${dir.replace(/\/+$/, "") || "."}/tokenizer.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new TokenizerError(path, `cannot read (${(e as Error).message})`);
  }
  return parseTokenizerJson(text, path);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\t": "\\t",
  "\r": "\\r",
};

/**
 * Quotes a token string for display: backslash, quote, `\n`, `\t`, `\r`
 * escaped, and every invisible or ambiguous character (controls, format
 * characters, unusual spaces, line/paragraph separators, lone surrogates,
 * private-use and unassigned code points) written as `\u{XXXX}`.
 *
 * @example
 * ```ts
 * import { escapeTokenText } from "./tokenizer.ts";
 * escapeTokenText("a\nb"); // "\"a\\nb\""
 * escapeTokenText("\u200b"); // "\"\\u{200B}\""
 * ```
 */
export function escapeTokenText(text: string): string {
  const body = text.replace(
    /[\\"\n\t\r]|[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]|(?! )\p{Zs}|\p{Cs}/gu,
    (ch) =>
      SIMPLE_ESCAPES[ch] ??
        `\\u{${
          ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")
        }}`,
  );
  return `"${body}"`;
}
