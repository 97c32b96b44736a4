/**
 * Where runs read and write: the default corpus, the committed records, the
 * records of variant runs and the cache of bulky artefacts. Every path is
 * absolute, resolved from this file, so a command works from any directory.
 *
 * @module
 */

const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;

/** The corpus every hypothesis trains on unless told otherwise. */
export const DEFAULT_CORPUS = new URL(
  "../../fixtures/corpus/brown.txt",
  import.meta.url,
).pathname;

/** Where committed run records live (reports are rendered from them). */
export const RECORDS_DIR = new URL("../../reports/data", import.meta.url)
  .pathname;

/**
 * Where bulky, uncommitted artefacts (histories, traces, checkpoints) go:
 * `.cache/`, or `HORIZON_CACHE_DIR` when set.
 */
export const CACHE_DIR = Deno.env.get("HORIZON_CACHE_DIR") ||
  new URL("../../.cache", import.meta.url).pathname;

/**
 * Where records of variant runs (`--set`, `--corpus`) go unless told
 * otherwise: they are explorations, not the hypothesis's committed evidence.
 */
export const VARIANT_RECORDS_DIR = `${CACHE_DIR}/records`;

/**
 * `path` relative to the project root when it lies inside it, else `path`
 * unchanged: a committed record must not name the checkout it was run in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CORPUS, projectRelative } from "./locations.ts";
 * assert.equal(projectRelative(DEFAULT_CORPUS), "fixtures/corpus/brown.txt");
 * assert.equal(projectRelative("/elsewhere/corpus.txt"), "/elsewhere/corpus.txt");
 * ```
 */
export function projectRelative(path: string): string {
  return path.startsWith(PROJECT_ROOT) ? path.slice(PROJECT_ROOT.length) : path;
}
