/**
 * Telling a Hugging Face hub id (`<org>/<name>[@revision]`) from a path on
 * disk. A census argument is a path first: only when nothing exists there
 * and it has the shape of a repo id is it read from the hub (see
 * `census.ts`), so a local folder `org/name` always wins.
 *
 * @module
 */

/** A model repo on the hub and the revision to read. */
export interface HubId {
  /** `org/name`. */
  repo: string;
  /** Branch, tag or commit; `"main"` when none was given. */
  revision: string;
  /** Whether the revision was given (`@...`). */
  explicitRevision: boolean;
}

// The hub's rule for both parts: letters, digits, `_`, `.`, `-`, not
// starting with `.` or `-` (so `./x` and `../x` are never repo ids).
const PART = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}";
const HUB_ID = new RegExp(`^(${PART}/${PART})(?:@(\\S+))?$`);

/** Weight-file suffixes: `dir/model.safetensors` is a missing file, not a repo. */
const FILE_SUFFIX = /\.(safetensors|gguf|json|bin|pt|pth)$/i;

/**
 * The repo and revision of `text`, or `null` when it is not shaped like a
 * hub id (a path with more than one `/`, an absolute path, a file name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHubId } from "./hub_id.ts";
 * assert.deepEqual(parseHubId("Qwen/Qwen2.5-3B@refs/pr/1"), {
 *   repo: "Qwen/Qwen2.5-3B",
 *   revision: "refs/pr/1",
 *   explicitRevision: true,
 * });
 * assert.equal(parseHubId("Qwen/Qwen2.5-3B")?.revision, "main");
 * assert.equal(parseHubId("./models/x"), null);
 * assert.equal(parseHubId("out/model.safetensors"), null);
 * ```
 */
export function parseHubId(text: string): HubId | null {
  const m = HUB_ID.exec(text);
  if (m === null || FILE_SUFFIX.test(m[1])) return null;
  const repo = m[1];
  if (repo.includes("..") || repo.includes("--")) return null;
  const revision = m[2];
  if (revision !== undefined && /(^|\/)\.\.?(\/|$)/.test(revision)) {
    return null;
  }
  return {
    repo,
    revision: revision ?? "main",
    explicitRevision: revision !== undefined,
  };
}

/** Whether `revision` is a full commit sha (its files can never change). */
export function isCommitSha(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}
