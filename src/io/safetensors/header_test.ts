import assert from "node:assert/strict";
import { parseSafetensors } from "./buffer.ts";
import { SafetensorsError, type SafetensorsErrorCode } from "./error.ts";
import { openSafetensors } from "./reader.ts";
import { parseHeader } from "./header.ts";
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

Deno.test("parseHeader() names a repeated tensor name and a shape too large to count", () => {
  const parse = (json: string, dataBytes: number) => {
    const bytes = new TextEncoder().encode(json);
    return parseHeader(
      bytes,
      8 + bytes.length,
      8 + bytes.length + dataBytes,
      "m.safetensors",
    );
  };
  // JSON.parse keeps the last "w": the first one's bytes looked like a hole.
  assert.throws(
    () =>
      parse(
        '{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},' +
          '"__metadata__":{"w":"x"},' +
          '"w":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}',
        4,
      ),
    /m\.safetensors.*tensor name "w" appears more than once in the header/,
  );
  // Keys inside entries and metadata, and escaped quotes, are not names.
  const ok = parse(
    '{"__metadata__":{"dtype":"a\\"b"},"a\\"":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}',
    2,
  );
  assert.deepEqual([...ok.tensors.keys()], ['a"']);
  assert.throws(
    () =>
      parse(
        `{"e":{"dtype":"F32","shape":[${2 ** 62},4],"data_offsets":[0,4]}}`,
        4,
      ),
    /tensor "e": shape \[4611686018427388000,4\] is too large: a dimension exceeds 2\^53 - 1 elements/,
  );
});
