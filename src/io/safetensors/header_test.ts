import assert from "node:assert/strict";
import { parseSafetensors } from "./buffer.ts";
import { SafetensorsError, type SafetensorsErrorCode } from "./error.ts";
import { openSafetensors } from "./reader.ts";
import { withTempDir } from "../../testing/helpers.ts";

const enc = new TextEncoder();

/** A file image: 8-byte LE length, header text, then `data`. */
function craft(
  header: string,
  data: number[] | Uint8Array = [],
  lengthField?: bigint,
): Uint8Array {
  const json = enc.encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(
    0,
    lengthField ?? BigInt(json.length),
    true,
  );
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function assertOpenRejects(
  dir: string,
  bytes: Uint8Array,
  code: SafetensorsErrorCode,
  pattern: RegExp,
) {
  const path = `${dir}/case.safetensors`;
  await Deno.writeFile(path, bytes);
  await assert.rejects(openSafetensors(path), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `not a SafetensorsError: ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.ok(e.message.startsWith(path), "message names the file");
    return true;
  });
  // The in-memory parser applies the same checks.
  assert.throws(() => parseSafetensors(bytes), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError);
    assert.equal(e.code, code);
    return true;
  });
}

Deno.test("openSafetensors() rejects each malformed file cleanly", async () => {
  await withTempDir(async (dir) => {
    const ok = (dtype: string, shape: string, offsets: string) =>
      `{"t":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}}`;

    await assertOpenRejects(dir, new Uint8Array(5), "truncated", /too short/);
    await assertOpenRejects(
      dir,
      craft("{}", [], 1000n),
      "truncated",
      /header length 1000 exceeds the 2 bytes/,
    );
    await assertOpenRejects(
      dir,
      craft("{}", [], 200n * 1024n * 1024n),
      "header-too-large",
      /cap/,
    );
    await assertOpenRejects(
      dir,
      craft("{}", [], 0xffffffffffffffffn),
      "header-too-large",
      /18446744073709551615/,
    );
    await assertOpenRejects(
      dir,
      craft('{"t": '),
      "invalid-header",
      /not valid JSON/,
    );
    await assertOpenRejects(
      dir,
      craft("[1, 2]"),
      "invalid-header",
      /start with '\{'/,
    );
    await assertOpenRejects(
      dir,
      (() => {
        const b = craft("{}  ");
        b[10] = 0xff; // a lone continuation-less byte: not UTF-8
        return b;
      })(),
      "invalid-header",
      /UTF-8/,
    );
    await assertOpenRejects(
      dir,
      craft('{"__metadata__":{"k":1}}'),
      "invalid-header",
      /"k" is not a string/,
    );
    await assertOpenRejects(
      dir,
      craft('{"t":[1]}'),
      "invalid-tensor",
      /"t": entry is not an object/,
    );
    await assertOpenRejects(
      dir,
      craft(ok("F33", "[2]", "[0,8]"), new Uint8Array(8)),
      "invalid-tensor",
      /unknown dtype "F33"/,
    );
    for (const shape of ["[-1]", "[1.5]", '"2"', "[2, null]"]) {
      await assertOpenRejects(
        dir,
        craft(ok("U8", shape, "[0,2]"), [1, 2]),
        "invalid-tensor",
        /shape .* is not an array of non-negative integers/,
      );
    }
    for (const offsets of ["[2,1]", "[0]", '["0",2]', "[0,2,3]", "[-1,1]"]) {
      await assertOpenRejects(
        dir,
        craft(ok("U8", "[2]", offsets), [1, 2]),
        "invalid-offsets",
        /data_offsets .* is not \[begin, end\]/,
      );
    }
    await assertOpenRejects(
      dir,
      craft(ok("F32", "[2]", "[0,8]"), new Uint8Array(5)),
      "invalid-offsets",
      /end 8 is beyond the data section \(5 bytes/,
    );
    await assertOpenRejects(
      dir,
      craft(ok("F32", "[3]", "[0,8]"), new Uint8Array(8)),
      "invalid-tensor",
      /F32 \[3\] needs 12 bytes but data_offsets \[0, 8\] hold 8/,
    );
    await assertOpenRejects(
      dir,
      craft(
        '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},' +
          '"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}',
        new Uint8Array(6),
      ),
      "invalid-offsets",
      /"b" bytes \[2, 6\) overlap tensor "a"/,
    );
    await assertOpenRejects(
      dir,
      craft(
        '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},' +
          '"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}',
        new Uint8Array(6),
      ),
      "invalid-offsets",
      /hole in the data section: bytes \[2, 4\)/,
    );
    await assertOpenRejects(
      dir,
      craft(ok("U8", "[2]", "[0,2]"), new Uint8Array(5)),
      "invalid-offsets",
      /3 trailing bytes/,
    );
  });
});
