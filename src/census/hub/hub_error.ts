/**
 * The error type of reading a model from the hub.
 *
 * @module
 */

import { CodedError } from "../../errors/coded_error.ts";

/** What stopped a read from the hub. */
export type HubErrorCode =
  /** 401/403: the repo is gated or private and no (or a refused) token was sent. */
  | "unauthorized"
  /** 404: no such repo, revision or file. */
  | "not-found"
  /** The repo holds no safetensors weights. */
  | "no-weights"
  /** A 200 with the whole file answered a range request. */
  | "no-range"
  /** The file is shorter or longer than its header says, or a body ended early. */
  | "truncated"
  /** The file changed between two requests (ETag or size). */
  | "changed"
  /** The hub could not be reached (DNS, refused connection, timeout). */
  | "network"
  /** Any other answer the reader cannot use (5xx, a malformed listing). */
  | "remote";

/** Codes that are the user's to fix (wrong id, missing token): exit 2. */
const USER_MISTAKES: ReadonlySet<HubErrorCode> = new Set([
  "unauthorized",
  "not-found",
  "no-weights",
]);

/**
 * A model cannot be read from the hub. The message is one line for the
 * person running the census and never contains the token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HubError } from "./hub_error.ts";
 * assert.equal(new HubError("not-found", "no such repo").exitCode, 2);
 * assert.equal(new HubError("network", "cannot reach").exitCode, 1);
 * ```
 */
export class HubError extends CodedError<HubErrorCode> {
  /** 2 when the user can fix it (repo id, revision, token), 1 for a remote failure. */
  get exitCode(): 1 | 2 {
    return USER_MISTAKES.has(this.code) ? 2 : 1;
  }
}
