/**
 * Queue settings given on a command line (`--queue`, the password file, the
 * CA file, their environment variables) are the user's to fix: their
 * mistakes end a CLI as usage errors (exit 2), not as failures.
 *
 * @module
 */

import {
  RedisAccessError,
  RedisUrlError,
} from "../executor/queue/connection.ts";
import { UsageError } from "./errors.ts";

/** `f()`, its queue setting mistakes turned into usage errors (exit 2). */
export async function queueSettings<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RedisUrlError || e instanceof RedisAccessError) {
      throw new UsageError(e.message);
    }
    throw e;
  }
}
