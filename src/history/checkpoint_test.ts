import assert from "node:assert/strict";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  fileCheckpointStore,
  type RunCheckpoint,
  SEAL_KEY_FILE,
  sealKeyAt,
  SealKeyError,
} from "./checkpoint.ts";
import { editAndRedigest } from "../testing/edit_checkpoint.ts";
import { fileDigest } from "../io/file_digest.ts";
import { runHypothesisDetailed, RunStoppedError } from "../run/run.ts";

/** Tiny, with noise (so the noise stream's position matters on resume). */
const TINY = tinyHypothesis("resume-check", {
  config: {
    maxSteps: 40,
    noise: { param: "transformer.wte.weight", scale: 3e-3 },
  },
  smokeSteps: 10,
  verdict: "positive",
});

Deno.test("a run stopped at any step resumes from its last checkpoint and ends bit-identical", async () => {
  await withTempDir(async (dir) => {
    const plain = await runHypothesisDetailed(TINY, {
      tier: "smoke",
      backend: "cpu",
      recordsDir: `${dir}/plain`,
      cacheDir: `${dir}/plain-cache`,
    });
    const plainHistory = await fileDigest(
      `${dir}/plain-cache/${plain.record.history!.file}`,
    );
    for (const stopAt of [2, 4, 7]) {
      const store = fileCheckpointStore(`${dir}/ckpt-${stopAt}`);
      const where = {
        recordsDir: `${dir}/r${stopAt}`,
        cacheDir: `${dir}/c${stopAt}`,
      };
      const controller = new AbortController();
      await assert.rejects(
        runHypothesisDetailed(TINY, {
          tier: "smoke",
          backend: "cpu",
          ...where,
          checkpoints: { store, every: 3 },
          signal: controller.signal,
          onStep: ({ step }) => {
            if (step === stopAt) controller.abort("test stop");
          },
        }),
        RunStoppedError,
      );
      assert.equal(
        (await store.load()) !== null,
        stopAt >= 3,
        "a checkpoint exists once a multiple of 3 steps ran",
      );
      const notes: string[] = [];
      const resumed = await runHypothesisDetailed(TINY, {
        tier: "smoke",
        backend: "cpu",
        ...where,
        checkpoints: { store, every: 3 },
        onNote: (n) => notes.push(n),
      });
      if (stopAt >= 3) {
        assert.match(
          notes.join("\n"),
          /resuming from the checkpoint at step 3|resuming from the checkpoint at step 6/,
        );
      }
      const a = plain.record, b = resumed.record;
      assert.deepEqual(b.loss, a.loss, `losses (stopped at ${stopAt})`);
      assert.deepEqual(b.gradNorm, a.gradNorm);
      assert.deepEqual(b.trajectory, a.trajectory);
      assert.deepEqual(b.final, a.final);
      assert.equal(b.key, a.key);
      assert.deepEqual(
        await fileDigest(`${dir}/c${stopAt}/${b.history!.file}`),
        plainHistory,
        "the history file is bit-identical too",
      );
      assert.equal(await store.load(), null, "the checkpoint is cleared");
    }
  });
});

// fixtures/checkpoint/v1.safetensors is a checkpoint of format 1 (no content
// digest): it is refused, never resumed from.
const V1 = new URL("../../fixtures/checkpoint/v1.safetensors", import.meta.url);
const V1_KEY =
  "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/** The checkpoint fixtures/checkpoint/v2.safetensors holds (written by format 2's code). */
function exampleCheckpoint(): RunCheckpoint {
  return {
    key: V1_KEY,
    trainer: {
      step: 3,
      state: {
        params: new Float32Array([0.5, -1.25, 3, 0.1]),
        m: new Float32Array(4),
        v: new Float32Array([1e-6, 2e-6, 0, 5]),
      },
      host: { step: 3 } as RunCheckpoint["trainer"]["host"],
      losses: new Float32Array([5.5, 5.25, 5.125]),
      gradNorms: new Float32Array([1, 2, 3]),
    },
    trajectory: {
      step: [0, 3],
      C: [1, 2],
      P: [51, 50],
      centroidNorm: [0.125, 0.1 + 0.2],
    },
    firstSplit: 3,
    firstEscape: null,
    firstEmbedding: new Float32Array([1, 2]),
    historyBytes: 64,
    historySha256: "ab".repeat(32),
  };
}

Deno.test("a checkpoint of the older format is refused; the current one round-trips to the same bytes", async () => {
  const bytes = await Deno.readFile(V1);
  assert.throws(
    () => decodeCheckpoint(bytes, V1_KEY),
    (e: Error) =>
      e instanceof CheckpointError &&
      /format "horizon-checkpoint\/1", not horizon-checkpoint\/3/.test(
        e.message,
      ),
  );
  const c = exampleCheckpoint();
  const encoded = encodeCheckpoint(c);
  const decoded = decodeCheckpoint(encoded, V1_KEY);
  assert.deepEqual(decoded, c);
  assert.deepEqual(encodeCheckpoint(decoded), encoded);
  assert.throws(
    () => decodeCheckpoint(encoded, "another key"),
    CheckpointError,
  );
});

/** A seal key for tests. */
const KEY_A = new Uint8Array(32).fill(7);

Deno.test("a sealed checkpoint edited and re-digested without the key is refused; with the key it is trusted", () => {
  const c = exampleCheckpoint();
  const sealed = encodeCheckpoint(c, KEY_A);
  assert.deepEqual(
    decodeCheckpoint(sealed, V1_KEY, { sealKey: KEY_A }),
    c,
    "round trip under the key",
  );
  const split55 = (m: Record<string, string>) => {
    m.first_split = "55";
  };
  // The probe of issue 23: edit, then recompute the SHA-256.
  for (
    const [what, edit] of [
      ["seal kept", split55],
      ["seal set to sha256", (m: Record<string, string>) => {
        split55(m);
        m.seal = "sha256";
      }],
    ] as const
  ) {
    assert.throws(
      () =>
        decodeCheckpoint(editAndRedigest(sealed, edit), V1_KEY, {
          sealKey: KEY_A,
        }),
      (e: Error) =>
        e instanceof CheckpointError &&
        /does not match its seal|not sealed with this cache's key/.test(
          e.message,
        ),
      what,
    );
  }
  // Sealed under another cache's key: refused too.
  assert.throws(
    () =>
      decodeCheckpoint(sealed, V1_KEY, {
        sealKey: new Uint8Array(32).fill(8),
      }),
    /its content does not match its seal/,
  );
  // Whoever holds the key is trusted (the threat model's line).
  const byKeyHolder = editAndRedigest(sealed, split55, { hmacKey: KEY_A });
  assert.equal(
    decodeCheckpoint(byKeyHolder, V1_KEY, { sealKey: KEY_A }).firstSplit,
    55,
  );
  // A store without a key (Redis) reads SHA-256 checkpoints, not sealed ones.
  assert.deepEqual(decodeCheckpoint(encodeCheckpoint(c), V1_KEY), c);
  assert.throws(
    () => decodeCheckpoint(sealed, V1_KEY),
    /sealed with a key this store does not have/,
  );
});

// fixtures/checkpoint/v2.safetensors was written by format 2's own code (the
// encoder of commit 235a984) from exampleCheckpoint().
const V2 = new URL("../../fixtures/checkpoint/v2.safetensors", import.meta.url);

Deno.test("a checkpoint of format 2 (before seals) is refused by a keyed store; a store without a key still checks its SHA-256", async () => {
  // Anyone can recompute a SHA-256: a keyed store trusts only its seal.
  const bytes = await Deno.readFile(V2);
  assert.throws(
    () => decodeCheckpoint(bytes, V1_KEY, { sealKey: KEY_A }),
    (e: unknown) =>
      e instanceof CheckpointError &&
      e.message ===
        "format horizon-checkpoint/2, written before checkpoints were sealed",
  );
  assert.deepEqual(decodeCheckpoint(bytes, V1_KEY), exampleCheckpoint());
  const flipped = bytes.slice();
  flipped[flipped.length - 1] ^= 1;
  assert.throws(
    () => decodeCheckpoint(flipped, V1_KEY),
    /its content does not match its digest/,
  );
});

Deno.test("the seal key: created once (32 random bytes, mode 0600), shared by the folder's stores, one key when created at once; a damaged one is one line", async () => {
  await withTempDir(async (dir) => {
    const a = fileCheckpointStore(`${dir}/ckpt/a.ckpt`);
    const b = fileCheckpointStore(`${dir}/ckpt/b.ckpt`);
    const [ka, kb] = await Promise.all([a.sealKey!(), b.sealKey!()]);
    assert.equal(ka.length, 32);
    assert.deepEqual(ka, kb, "one key for the folder");
    const file = `${dir}/ckpt/${SEAL_KEY_FILE}`;
    assert.deepEqual(await Deno.readFile(file), ka);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    }
    assert.notDeepEqual(
      await fileCheckpointStore(`${dir}/other/c.ckpt`).sealKey!(),
      ka,
      "another folder, another random key",
    );
    const racing = await Promise.all(
      Array.from({ length: 6 }, () => sealKeyAt(`${dir}/race/k`)),
    );
    for (const k of racing) assert.deepEqual(k, racing[0]);
    await Deno.writeFile(`${dir}/bad.key`, new Uint8Array(5));
    await assert.rejects(
      sealKeyAt(`${dir}/bad.key`),
      (e: unknown) =>
        e instanceof SealKeyError &&
        e.message ===
          `the checkpoint key ${dir}/bad.key holds 5 bytes, not 32: remove it to start a new one (its checkpoints will then be trained again)`,
    );
  });
});
