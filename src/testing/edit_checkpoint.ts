/**
 * Checkpoint bytes edited the way a person who read the format would: parse,
 * change the metadata or a tensor, recompute the digest exactly as the
 * format describes it (a SHA-256, or an HMAC-SHA-256 when they hold the
 * key), and write it back. The tests of the seal use it as the adversary.
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";
import {
  encodeSafetensors,
  parseSafetensors,
  type TensorData,
} from "../io/safetensors/mod.ts";
import type { Dtype } from "../io/safetensors/dtype.ts";

/**
 * `bytes` with `edit` applied to its metadata (and `editTensor` to each
 * tensor's bytes, in place) and its `digest` recomputed: over the metadata
 * entries but the digest, sorted by key, as JSON, then each tensor's
 * `[name, dtype, shape, byte length]` as JSON and its bytes; an HMAC under
 * `hmacKey`, else a SHA-256.
 */
export function editAndRedigest(
  bytes: Uint8Array,
  edit: (meta: Record<string, string>) => void,
  options: {
    readonly hmacKey?: Uint8Array;
    readonly editTensor?: (name: string, data: Uint8Array) => void;
  } = {},
): Uint8Array {
  const f = parseSafetensors(bytes);
  const meta = { ...f.metadata! };
  edit(meta);
  delete meta.digest;
  const hash = options.hmacKey
    ? createHmac("sha256", options.hmacKey)
    : createHash("sha256");
  hash.update(
    JSON.stringify(
      Object.entries(meta).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
    ),
  );
  const tensors: Record<string, TensorData> = {};
  for (const name of f.names()) {
    const t = f.tensor(name);
    const data = f.tensorBytes(name).slice();
    options.editTensor?.(name, data);
    hash.update(JSON.stringify([name, t.dtype, t.shape, data.length]));
    hash.update(data);
    tensors[name] = { dtype: t.dtype as Dtype, shape: t.shape, data };
  }
  return encodeSafetensors(tensors, {
    metadata: { ...meta, digest: hash.digest("hex") },
  });
}
