import assert from "node:assert/strict";
import {
  CorpusError,
  corpusFromBytes,
  loadCorpus,
  MAX_CORPUS_BYTES,
} from "./corpus.ts";

const enc = new TextEncoder();

async function withTempFile(
  data: Uint8Array,
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "horizon_corpus_test_" });
  const path = `${dir}/corpus.txt`;
  try {
    await Deno.writeFile(path, data);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CorpusError, `expected CorpusError, got ${e}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("loadCorpus() reads a file and counts tokens and windows", async () => {
  // "hello world\n": h e l o ' ' w r d '\n' -> 9 distinct bytes, 12 bytes.
  await withTempFile(enc.encode("hello world\n"), async (path) => {
    const c = await loadCorpus(path, { context: 4 });
    assert.equal(c.bytes.length, 12);
    assert.equal(c.windows, 8);
    assert.equal(c.distinct, 9);
    assert.deepEqual(
      c.liveTokens,
      [10, 32, 100, 101, 104, 108, 111, 114, 119],
    );
    assert.equal(c.deadTokens.length, 128 - 9);
    assert.equal(c.deadTokens[0], 0);
    assert.ok(!c.deadTokens.includes(104));
    assert.equal(c.dropped, 0);
    // sha256("hello world\n") from coreutils `printf 'hello world\n' | sha256sum`.
    assert.equal(
      c.sha256,
      "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
    );
  });
});

Deno.test("loadCorpus() defaults to vocabSize 128 and context 128", async () => {
  const data = new Uint8Array(129).fill(65);
  await withTempFile(data, async (path) => {
    const c = await loadCorpus(path);
    assert.equal(c.windows, 1);
    assert.equal(c.vocabSize, 128);
    assert.equal(c.context, 128);
    assert.deepEqual(c.liveTokens, [65]);
  });
});

Deno.test("loadCorpus() reports a missing file", async () => {
  await rejectsWith(
    loadCorpus("/nonexistent/horizon/corpus.txt"),
    "not-found",
    /not found: \/nonexistent\/horizon\/corpus\.txt/,
  );
});

Deno.test("loadCorpus() reports a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejectsWith(loadCorpus(dir), "not-a-file", /directory/);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("loadCorpus() reports an empty file", async () => {
  await withTempFile(new Uint8Array(0), async (path) => {
    await rejectsWith(loadCorpus(path), "empty", /is empty/);
  });
});

Deno.test("loadCorpus() needs context + 1 bytes", async () => {
  await withTempFile(enc.encode("abcd"), async (path) => {
    await rejectsWith(
      loadCorpus(path, { context: 4 }),
      "too-short",
      /has 4 byte\(s\); at least context \+ 1 = 5/,
    );
    // Exactly context + 1 bytes is one window.
    assert.equal((await loadCorpus(path, { context: 3 })).windows, 1);
  });
});

Deno.test("loadCorpus() rejects bytes >= vocabSize with count and first offset", async () => {
  // "caf\xc3\xa9 na\xc3\xafve": UTF-8 of "café naïve" has 4 bytes >= 128,
  // the first (0xc3) at offset 3.
  await withTempFile(enc.encode("café naïve"), async (path) => {
    await rejectsWith(
      loadCorpus(path, { context: 2 }),
      "out-of-vocab",
      /4 byte\(s\) >= vocabSize 128; the first is 0xc3 at offset 3/,
    );
  });
});

Deno.test("corpusFromBytes() drops bytes >= vocabSize when asked", () => {
  const c = corpusFromBytes(enc.encode("café naïve"), {
    context: 2,
    filter: "drop",
  });
  assert.deepEqual(new TextDecoder().decode(c.bytes), "caf nave");
  assert.equal(c.dropped, 4);
  assert.equal(c.windows, 8 - 2);
  // c a f ' ' n v e -> 7 distinct.
  assert.equal(c.distinct, 7);
});

Deno.test("corpusFromBytes() counts length after dropping for too-short", () => {
  assert.throws(
    () =>
      corpusFromBytes(new Uint8Array([200, 201, 1, 2]), {
        context: 2,
        filter: "drop",
      }),
    (e: unknown) =>
      e instanceof CorpusError && e.code === "too-short" &&
      /2 byte\(s\) after dropping 2/.test(e.message),
  );
});

Deno.test("corpusFromBytes() honours a small vocabulary", () => {
  const c = corpusFromBytes(new Uint8Array([0, 1, 3, 3, 1]), {
    vocabSize: 4,
    context: 1,
  });
  assert.deepEqual(c.liveTokens, [0, 1, 3]);
  assert.deepEqual(c.deadTokens, [2]);
  assert.equal(c.windows, 4);
  assert.throws(
    () =>
      corpusFromBytes(new Uint8Array([0, 4, 1]), { vocabSize: 4, context: 1 }),
    /1 byte\(s\) >= vocabSize 4; the first is 0x04 at offset 1/,
  );
});

Deno.test("corpusFromBytes() copies its input", () => {
  const input = enc.encode("abcdef");
  const c = corpusFromBytes(input, { context: 2 });
  input[0] = 122;
  assert.equal(c.bytes[0], 97);
});

Deno.test("corpusFromBytes() rejects bad options", () => {
  const bytes = enc.encode("abcdef");
  for (
    const opts of [
      { vocabSize: 0 },
      { vocabSize: 257 },
      { vocabSize: 1.5 },
      { context: 0 },
      { context: Number.NaN },
      { filter: "keep" as "drop" },
    ]
  ) {
    assert.throws(
      () => corpusFromBytes(bytes, opts),
      (e: unknown) => e instanceof CorpusError && e.code === "invalid-option",
      JSON.stringify(opts),
    );
  }
});

Deno.test(
  "loadCorpus() stops at MAX_CORPUS_BYTES: /dev/zero is an error naming the limit, not an OOM kill",
  {
    ignore: Deno.build.os === "windows",
  },
  async () => {
    const t0 = performance.now();
    await assert.rejects(
      loadCorpus("/dev/zero"),
      (e: unknown) =>
        e instanceof CorpusError && e.code === "too-large" &&
        e.message.includes(
          `/dev/zero is larger than ${MAX_CORPUS_BYTES} bytes`,
        ),
    );
    assert.ok(performance.now() - t0 < 30_000);
    // An aborted signal (SIGTERM while reading) stops the reading.
    const stop = new AbortController();
    stop.abort("SIGTERM");
    await assert.rejects(
      loadCorpus("/dev/zero", { signal: stop.signal }),
      (e: unknown) => e === "SIGTERM",
    );
  },
);

Deno.test("loadCorpus() with batchSize: a corpus too short for one batch is refused naming the minimum", async () => {
  // A 129-byte corpus passed the check (one window of 128 + 1) and the run
  // then failed at exit 1: "batchSize 32 is larger than the number of windows".
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/c.txt`;
    await Deno.writeFile(path, new Uint8Array(129).fill(97));
    await assert.rejects(
      loadCorpus(path, { context: 128, batchSize: 32 }),
      (e: unknown) =>
        e instanceof CorpusError && e.code === "too-short" &&
        e.message ===
          `corpus file ${path} has 129 byte(s); at least seqLen + batchSize = 128 + 32 = 160 are needed for one batch of 32 training windows`,
    );
    await Deno.writeFile(path, new Uint8Array(160).fill(97));
    const c = await loadCorpus(path, { context: 128, batchSize: 32 });
    assert.equal(c.windows, 32);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
