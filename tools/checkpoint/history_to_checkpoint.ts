/**
 * Turns one snapshot of an embedding history (`.cache/history/*.safetensors`)
 * into a minimal Hugging Face-style model folder: `model.safetensors` with
 * `transformer.wte.weight` in the stored dtype, and a byte-level
 * `tokenizer.json`, so that `deno task census` can be tried on a model whose
 * black holes are known.
 *
 *     deno run -A tools/checkpoint/history_to_checkpoint.ts <history> <out-dir> [--step N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  openSafetensors,
  writeSafetensors,
} from "../../src/io/safetensors/mod.ts";
import { runCli, UsageError } from "../../src/cli/errors.ts";
import { writeTextAtomic } from "../../src/report/write.ts";

/** Printable tokenizer entry for byte `id`. */
export function byteToken(id: number): string {
  return id >= 32 && id < 127
    ? String.fromCharCode(id)
    : `<0x${id.toString(16).padStart(2, "0").toUpperCase()}>`;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { step: { type: "string" } },
  });
  if (positionals.length !== 2) {
    throw new UsageError(
      "usage: history_to_checkpoint.ts <history.safetensors> <out-dir> [--step N]",
    );
  }
  const [historyPath, outDir] = positionals;
  const history = await openSafetensors(historyPath);
  try {
    const info = history.tensor("embedding_history");
    const [snapshots, rows, cols] = info.shape;
    const index = values.step === undefined
      ? snapshots - 1
      : Number(values.step);
    if (!Number.isInteger(index) || index < 0 || index >= snapshots) {
      throw new UsageError(
        `--step must be a snapshot index in 0..${snapshots - 1}`,
      );
    }
    const bytes = await history.readRows("embedding_history", index, 1);
    await Deno.mkdir(outDir, { recursive: true });
    await writeSafetensors(`${outDir}/model.safetensors`, {
      "transformer.wte.weight": {
        dtype: info.dtype,
        shape: [rows, cols],
        data: bytes,
      },
    }, {
      metadata: { source: historyPath, snapshot: String(index), format: "pt" },
    });
    const vocab = Object.fromEntries(
      Array.from({ length: rows }, (_, id) => [byteToken(id), id]),
    );
    await writeTextAtomic(
      `${outDir}/tokenizer.json`,
      JSON.stringify({
        version: "1.0",
        added_tokens: [],
        model: { type: "WordLevel", vocab },
      }) + "\n",
    );
    console.log(
      `wrote ${outDir}/model.safetensors (snapshot ${index} of ${historyPath}) and tokenizer.json`,
    );
  } finally {
    history.close();
  }
  return 0;
}

if (import.meta.main) await runCli(() => main(Deno.args));
