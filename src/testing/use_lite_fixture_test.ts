import assert from "node:assert/strict";
import { encodeSafetensors } from "../io/safetensors/mod.ts";
import { sha256Hex } from "../step/config.ts";
import {
  joinBytePlanes,
  readUseLite,
  splitBytePlanes,
} from "./use_lite_fixture.ts";

Deno.test("use_lite fixture: unpacks to the converted files, bit for bit", async () => {
  const { model, tokenizer } = await readUseLite();
  // SHA-256 of model.safetensors and tokenizer.json as convert_use_lite.ts
  // wrote them before they were stored compressed (fixtures/use_lite/README.md).
  assert.equal(
    await sha256Hex(model),
    "5c1c2ce07d7fc0be2e4f17039eef78e2a8ea809edaf9b552062984b707c0627b",
  );
  assert.equal(model.length, 4_097_376);
  assert.equal(
    await sha256Hex(tokenizer),
    "0fd412b091c9809308aafe81eda47e2c3e853770e2b6c0c17337886e59c7e99f",
  );
});

Deno.test("use_lite fixture: byte planes put high bytes first and join back", () => {
  // BF16 1.0 = 0x3F80, -2.0 = 0xC000, 0.5 = 0x3F00 (little-endian pairs).
  const file = encodeSafetensors({
    w: {
      dtype: "BF16",
      shape: [3],
      data: Uint8Array.of(0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f),
    },
  });
  const planes = splitBytePlanes(file);
  const start = file.length - 6;
  assert.deepEqual(planes.subarray(0, start), file.subarray(0, start));
  assert.deepEqual(
    [...planes.subarray(start)],
    [0x3f, 0xc0, 0x3f, 0x80, 0x00, 0x00],
  );
  assert.deepEqual(joinBytePlanes(planes), file);
});
