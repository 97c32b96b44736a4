/**
 * The USE-Lite census fixture (`fixtures/use_lite/`, written by
 * `tools/census/convert_use_lite.ts`) in its stored form and back.
 *
 * The census reads plain safetensors (users' files), so the fixture is
 * unpacked into a temporary folder for each test rather than taught to the
 * census. Stored exactly, nothing rounded:
 * - `model.safetensors.planes.br`: `model.safetensors` with its data section
 *   (one BF16 tensor) split into byte planes, every value's high byte (sign
 *   and exponent, which repeat) before every low byte (mostly mantissa,
 *   nearly random), then Brotli-compressed: 4.1 MB to 2.8 MB, where Brotli
 *   of the interleaved bytes gives 2.9 MB and gzip 3.3 MB;
 * - `tokenizer.json.br`: `tokenizer.json`, Brotli-compressed.
 *
 * @module
 */

import zlib from "node:zlib";
import { withTempDir } from "./helpers.ts";

const FIXTURE_DIR =
  new URL("../../fixtures/use_lite", import.meta.url).pathname;

/** The stored model file's name in `fixtures/use_lite/`. */
export const MODEL_STORED = "model.safetensors.planes.br";
/** The stored tokenizer's name in `fixtures/use_lite/`. */
export const TOKENIZER_STORED = "tokenizer.json.br";

/** Where a safetensors file's data section starts: after its 8-byte length and header. */
function dataStart(file: Uint8Array): number {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const start = 8 + Number(view.getBigUint64(0, true));
  if (start > file.length || (file.length - start) % 2 !== 0) {
    throw new Error("not a safetensors file with 2-byte values");
  }
  return start;
}

/**
 * `file` (safetensors holding 2-byte values) with its data section split
 * into byte planes: the header as is, then byte 1 of every value, then byte 0
 * of every value. {@linkcode joinBytePlanes} undoes it.
 */
export function splitBytePlanes(file: Uint8Array): Uint8Array {
  const start = dataStart(file);
  const n = (file.length - start) / 2;
  const out = new Uint8Array(file.length);
  out.set(file.subarray(0, start));
  for (let i = 0; i < n; i++) {
    out[start + i] = file[start + 2 * i + 1];
    out[start + n + i] = file[start + 2 * i];
  }
  return out;
}

/** The safetensors bytes whose byte planes are `planes` (see {@linkcode splitBytePlanes}). */
export function joinBytePlanes(planes: Uint8Array): Uint8Array {
  const start = dataStart(planes);
  const n = (planes.length - start) / 2;
  const out = new Uint8Array(planes.length);
  out.set(planes.subarray(0, start));
  for (let i = 0; i < n; i++) {
    out[start + 2 * i + 1] = planes[start + i];
    out[start + 2 * i] = planes[start + n + i];
  }
  return out;
}

/** The fixture's plain files, decoded from their stored form in `dir`. */
export async function readUseLite(
  dir: string = FIXTURE_DIR,
): Promise<{ model: Uint8Array; tokenizer: Uint8Array }> {
  const unpack = async (name: string) =>
    new Uint8Array(
      zlib.brotliDecompressSync(await Deno.readFile(`${dir}/${name}`)),
    );
  return {
    model: joinBytePlanes(await unpack(MODEL_STORED)),
    tokenizer: await unpack(TOKENIZER_STORED),
  };
}

/**
 * Runs `fn` with a temporary folder holding the fixture as the census reads
 * it (`model.safetensors`, `tokenizer.json`), removed afterwards.
 */
export async function withUseLite(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const { model, tokenizer } = await readUseLite();
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/model.safetensors`, model);
    await Deno.writeFile(`${dir}/tokenizer.json`, tokenizer);
    await fn(dir);
  }, "horizon_use_lite_");
}
