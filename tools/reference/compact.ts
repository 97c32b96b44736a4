/**
 * `deno run -A tools/reference/compact.ts FILE.safetensors`: stores a PyTorch
 * reference fixture written by a generator in `tools/reference/` in the
 * committed form, `FILE.safetensors.br`, and removes FILE once every
 * tensor of the new file reads back bit-identical (through the tests' own
 * reader, `src/testing/reference_fixture.ts`).
 *
 * Exact by construction, nothing rounded:
 * - a tensor whose dtype, shape and bytes equal an earlier one (in header
 *   order) is not stored again: the `aliases` metadata maps its name to the
 *   stored one (the cases share initial weights and batches);
 * - an F32 tensor whose every element has zero low 16 bits (a bf16 value, as
 *   the bf16 cases store their parameters and moments) is stored as BF16, its
 *   high 16 bits;
 * - the result is Brotli-compressed.
 *
 * @module
 */

import zlib from "node:zlib";
import {
  encodeSafetensors,
  parseSafetensors,
  type TensorData,
} from "../../src/io/safetensors/mod.ts";
import { writeFileAtomic } from "../../src/io/atomic.ts";
import { runCli, UsageError } from "../../src/cli/errors.ts";
import {
  ALIASES_KEY,
  floats,
  ints,
  openReferenceFixture,
} from "../../src/testing/reference_fixture.ts";

/** True when every float32 in `bytes` is a bf16 value (low 16 bits zero). */
function isBf16Exact(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i += 4) {
    if (bytes[i] !== 0 || bytes[i + 1] !== 0) return false;
  }
  return true;
}

/** The high 16 bits of each little-endian float32: its exact BF16 bytes. */
function highHalves(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length / 2);
  for (let i = 0, j = 0; i < bytes.length; i += 4, j += 2) {
    out[j] = bytes[i + 2];
    out[j + 1] = bytes[i + 3];
  }
  return out;
}

/**
 * The compacted safetensors bytes of `bytes` (not yet compressed): duplicates
 * aliased, bf16-valued F32 tensors stored as BF16, the metadata kept with
 * `aliases` added.
 */
export function compactFixture(bytes: Uint8Array): Uint8Array {
  const file = parseSafetensors(bytes);
  if (ALIASES_KEY in file.metadata) {
    throw new UsageError("the fixture is already compacted (it has aliases)");
  }
  const tensors: Record<string, TensorData> = {};
  const aliases: Record<string, string> = {};
  const stored = new Map<string, string>();
  for (const name of file.names()) {
    const info = file.tensor(name);
    const data = file.tensorBytes(name);
    const key = `${info.dtype} ${info.shape.join("x")} ${
      new TextDecoder("latin1").decode(data)
    }`;
    const first = stored.get(key);
    if (first !== undefined) {
      aliases[name] = first;
      continue;
    }
    stored.set(key, name);
    tensors[name] = info.dtype === "F32" && isBf16Exact(data)
      ? { dtype: "BF16", shape: info.shape, data: highHalves(data) }
      : { dtype: info.dtype, shape: info.shape, data: data.slice() };
  }
  return encodeSafetensors(tensors, {
    metadata: { ...file.metadata, [ALIASES_KEY]: JSON.stringify(aliases) },
  });
}

/**
 * Brotli of `bytes` at its best setting (quality 11, a 16 MiB window: the
 * cases' repeats lie megabytes apart). Minutes for 11 MB, but 12% smaller
 * than gzip -9 here, and Deno reads it back with node:zlib in under a second.
 */
export function compress(bytes: Uint8Array): Uint8Array {
  return zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

/**
 * Throws unless every tensor of the original file reads back from the
 * compacted one with the same dtype class and the same bits, and the metadata
 * (less `aliases`) is the same.
 */
export async function checkCompacted(
  original: Uint8Array,
  compactedPath: string,
): Promise<void> {
  const want = parseSafetensors(original);
  const got = await openReferenceFixture(compactedPath);
  const { [ALIASES_KEY]: _, ...metadata } = got.metadata;
  if (JSON.stringify(metadata) !== JSON.stringify(want.metadata)) {
    throw new Error(`${compactedPath}: the metadata differs`);
  }
  const names = want.names();
  if (got.names().join("\n") !== [...names].sort().join("\n")) {
    throw new Error(`${compactedPath}: the tensor names differ`);
  }
  for (const name of names) {
    const info = want.tensor(name);
    const bytes = want.tensorBytes(name).slice();
    const same = info.dtype === "F32"
      ? equalBytes(new Uint8Array((await floats(got, name)).buffer), bytes)
      : info.dtype === "I32"
      ? equalBytes(new Uint8Array((await ints(got, name)).buffer), bytes)
      : equalBytes(await got.readTensorBytes(name), bytes);
    if (!same || got.tensor(name).shape.join() !== info.shape.join()) {
      throw new Error(`${compactedPath}: tensor ${name} differs`);
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function main(): Promise<void> {
  const [input, ...rest] = Deno.args;
  if (!input?.endsWith(".safetensors") || rest.length > 0) {
    throw new UsageError(
      "usage: deno run -A tools/reference/compact.ts FILE.safetensors",
    );
  }
  const original = await Deno.readFile(input).catch(() => {
    throw new UsageError(`cannot read ${input}`);
  });
  const out = `${input}.br`;
  await writeFileAtomic(out, compress(compactFixture(original)));
  await checkCompacted(original, out);
  await Deno.remove(input);
  const size = (await Deno.stat(out)).size;
  console.log(
    `compact: ${out}: ${size} bytes (was ${original.length}); every tensor reads back bit-identical; ${input} removed`,
  );
}

if (import.meta.main) await runCli(main);
