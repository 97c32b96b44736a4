/**
 * The least a queue client needs, as a Redis ACL (Redis 6+): the keys of
 * horizon's BullMQ queue and of its run checkpoints, no Pub/Sub channels,
 * and the command categories BullMQ and ioredis use (reads, writes, Lua
 * scripts, connection commands, and INFO, which ioredis and BullMQ read the
 * server's version from), without the commands Redis marks dangerous
 * (FLUSHALL, CONFIG, KEYS, DEBUG, ...). README's "Securing the queue" shows
 * it; the queue's TLS test runs two real workers and a sweep under it.
 *
 * @module
 */

import { CHECKPOINT_PREFIX } from "./checkpoints.ts";
import { QUEUE_NAME } from "./jobs.ts";

/** The rules after `ACL SETUSER <user> on ><password>`. */
export const QUEUE_ACL_RULES =
  `resetkeys ~bull:${QUEUE_NAME}:* ~${CHECKPOINT_PREFIX}* resetchannels -@all +@read +@write +@scripting +@connection -@dangerous +info`;

/**
 * The `ACL SETUSER` command that makes `user` a queue client with
 * `password` (`README.md` shows it with a placeholder).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueAclCommand } from "./acl.ts";
 * assert.match(queueAclCommand("horizon", "PASSWORD"), /^ACL SETUSER horizon on >PASSWORD resetkeys ~bull:horizon-runs:\* /);
 * ```
 */
export function queueAclCommand(user: string, password: string): string {
  return `ACL SETUSER ${user} on >${password} ${QUEUE_ACL_RULES}`;
}
