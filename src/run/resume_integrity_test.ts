import assert from "node:assert/strict";
import { tinyHypothesis, withTempDir } from "../testing/helpers.ts";
import { fileCheckpointStore, SEAL_KEY_FILE } from "../history/checkpoint.ts";
import { fileDigest } from "../io/file_digest.ts";
import {
  encodeSafetensors,
  parseSafetensors,
  type TensorData,
} from "../io/safetensors/mod.ts";
import type { Dtype } from "../io/safetensors/dtype.ts";
import { runHypothesisDetailed, RunStoppedError } from "./run.ts";
import { InconsistentRecordError } from "./record_write.ts";
import { editAndRedigest } from "../testing/edit_checkpoint.ts";
import type { RunOptions } from "./run_options.ts";

/** Tiny, with noise (so the noise stream's position matters on resume). */
const TINY = tinyHypothesis("resume-integrity", {
  config: {
    maxSteps: 40,
    noise: { param: "transformer.wte.weight", scale: 3e-3 },
  },
  smokeSteps: 10,
  verdict: "positive",
});

const BASE = { tier: "smoke", backend: "cpu" } as const;

/** Where one scenario's runs write, and its checkpoint file. */
function place(dir: string, name: string) {
  const ckpt = `${dir}/${name}.ckpt`;
  return {
    ckpt,
    options: {
      recordsDir: `${dir}/${name}-records`,
      cacheDir: `${dir}/${name}-cache`,
      checkpoints: { store: fileCheckpointStore(ckpt), every: 3 },
    },
  };
}

/** Runs TINY and stops it after step 7: its checkpoint is at step 6. */
async function stopAfterStep7(
  options: Partial<RunOptions>,
): Promise<void> {
  const controller = new AbortController();
  await assert.rejects(
    runHypothesisDetailed(TINY, {
      ...BASE,
      ...options,
      signal: controller.signal,
      onStep: ({ step }) => {
        if (step === 7) controller.abort("test stop");
      },
    }),
    RunStoppedError,
  );
}

/** The checkpoint's bytes with its metadata edited (tensors unchanged). */
function editMetadata(
  bytes: Uint8Array,
  edit: (meta: Record<string, string>) => void,
): Uint8Array {
  const f = parseSafetensors(bytes);
  const tensors: Record<string, TensorData> = {};
  for (const name of f.names()) {
    const t = f.tensor(name);
    tensors[name] = {
      dtype: t.dtype as Dtype,
      shape: t.shape,
      data: f.tensorBytes(name).slice(),
    };
  }
  const metadata = { ...f.metadata! };
  edit(metadata);
  return encodeSafetensors(tensors, { metadata });
}

/** Flips one bit of tensor `name`'s first byte. */
function flipTensorBit(bytes: Uint8Array, name: string): Uint8Array {
  const f = parseSafetensors(bytes);
  const out = bytes.slice();
  const at = f.tensor(name).byteOffset;
  out[at] ^= 1;
  return out;
}

/**
 * The reproductions of issue 23 ("Resume and cache trust what they read"):
 * each damages what a stopped run left, then runs again. Each must name the
 * damaged file, discard the checkpoint, and end exactly as an uninterrupted
 * run (never resume from what failed, never get stuck).
 */
const DAMAGE: {
  name: string;
  damage: (ckpt: string, partial: string) => Promise<void>;
  problem: RegExp;
  /** Re-run with `--force` (no record cache): the checkpoint is read anyway. */
  force?: boolean;
}[] = [
  {
    name: "one bit of params flipped",
    damage: async (ckpt) =>
      await Deno.writeFile(
        ckpt,
        flipTensorBit(await Deno.readFile(ckpt), "params"),
      ),
    problem: /content does not match its seal/,
  },
  {
    name: "first_split set to 55",
    damage: async (ckpt) =>
      await Deno.writeFile(
        ckpt,
        editMetadata(await Deno.readFile(ckpt), (m) => {
          m.first_split = "55";
        }),
      ),
    problem: /content does not match its seal/,
  },
  {
    name: "host metadata not JSON",
    damage: async (ckpt) =>
      await Deno.writeFile(
        ckpt,
        editMetadata(await Deno.readFile(ckpt), (m) => {
          m.host = "{x";
        }),
      ),
    problem: /content does not match its seal/,
    force: true,
  },
  {
    name: "one byte of the partial history flipped",
    damage: async (_ckpt, partial) => {
      const bytes = await Deno.readFile(partial);
      // A byte of the first embedding: inside what the checkpoint vouches for.
      const header = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      bytes[8 + header + 10] ^= 0x40;
      await Deno.writeFile(partial, bytes);
    },
    problem: /its partial history \S+\.partial: its bytes do not match/,
  },
  {
    // Issue 23: the editor recomputed the SHA-256 the format describes.
    name: "params edited and re-digested (SHA-256, as the format says)",
    damage: async (ckpt) =>
      await Deno.writeFile(
        ckpt,
        editAndRedigest(await Deno.readFile(ckpt), (m) => {
          m.seal = "sha256";
        }, {
          editTensor: (name, data) => {
            if (name === "params") data[0] ^= 1;
          },
        }),
      ),
    problem: /not sealed with this cache's key/,
  },
  {
    name: "first_split set to 55 and re-digested, seal kept",
    damage: async (ckpt) =>
      await Deno.writeFile(
        ckpt,
        editAndRedigest(await Deno.readFile(ckpt), (m) => {
          m.first_split = "55";
        }),
      ),
    problem: /content does not match its seal/,
  },
  {
    // Issue 23: the editor rewrote it as format 2, whose SHA-256 needs no key.
    name: "params edited, re-digested as format 2 (before seals)",
    damage: async (ckpt) =>
      await Deno.writeFile(
        ckpt,
        editAndRedigest(await Deno.readFile(ckpt), (m) => {
          m.format = "horizon-checkpoint/2";
          delete m.seal;
        }, {
          editTensor: (name, data) => {
            if (name === "params") data[0] ^= 1;
          },
        }),
      ),
    problem:
      /: format horizon-checkpoint\/2, written before checkpoints were sealed; discarded, starting from step 0$/m,
  },
  {
    name: "a format-1 checkpoint",
    damage: async (ckpt) =>
      await Deno.copyFile(
        new URL("../../fixtures/checkpoint/v1.safetensors", import.meta.url),
        ckpt,
      ),
    problem: /format "horizon-checkpoint\/1", not horizon-checkpoint\/3/,
  },
];

Deno.test("a damaged checkpoint or partial history is named, discarded, and the run ends as an uninterrupted one", async () => {
  await withTempDir(async (dir) => {
    const plain = await runHypothesisDetailed(TINY, {
      ...BASE,
      recordsDir: `${dir}/plain`,
      cacheDir: `${dir}/plain-cache`,
    });
    const plainHistory = await fileDigest(
      `${dir}/plain-cache/${plain.record.history!.file}`,
    );
    for (const [i, { name, damage, problem, force }] of DAMAGE.entries()) {
      const { ckpt, options } = place(dir, `d${i}`);
      await stopAfterStep7(options);
      const partial =
        `${options.cacheDir}/history/.resume-integrity-smoke-seed42-cpu.partial`;
      await Deno.stat(partial);
      await damage(ckpt, partial);
      const notes: string[] = [];
      const again = await runHypothesisDetailed(TINY, {
        ...BASE,
        ...options,
        useCache: !force,
        onNote: (n) => notes.push(n),
      });
      const said = notes.join("\n");
      assert.doesNotMatch(said, /resuming/, name);
      assert.match(
        said,
        new RegExp(
          `checkpoint ${
            ckpt.replaceAll(".", "\\.")
          }: .*; discarded, starting from step 0`,
        ),
        name,
      );
      assert.match(said, problem, name);
      assert.deepEqual(again.record.loss, plain.record.loss, name);
      assert.deepEqual(again.record.trajectory, plain.record.trajectory, name);
      assert.deepEqual(again.record.final, plain.record.final, name);
      assert.deepEqual(
        await fileDigest(`${options.cacheDir}/${again.record.history!.file}`),
        plainHistory,
        name,
      );
      assert.equal(await options.checkpoints.store.load(), null, name);
    }
  });
});

Deno.test("a record that cannot be written at the end leaves the checkpoint: the next run finishes from it", async () => {
  await withTempDir(async (dir) => {
    const plain = await runHypothesisDetailed(TINY, {
      ...BASE,
      recordsDir: `${dir}/plain`,
      cacheDir: `${dir}/plain-cache`,
    });
    const { options } = place(dir, "end");
    // The records folder becomes a file while the run trains (an --out
    // folder replaced, a full disk): the record write fails at the end.
    await assert.rejects(
      runHypothesisDetailed(TINY, {
        ...BASE,
        ...options,
        onStep: async ({ step }) => {
          if (step === 8) {
            await Deno.remove(options.recordsDir, { recursive: true }).catch(
              () => {},
            );
            await Deno.writeTextFile(options.recordsDir, "not a folder");
          }
        },
      }),
      /^Error: cannot write the record \S+smoke-seed42-cpu\.json \(.*\); the checkpoint is kept: the same command finishes the run from it$/,
    );
    assert.notEqual(
      await options.checkpoints.store.load(),
      null,
      "the checkpoint survives the failed record write",
    );
    await Deno.remove(options.recordsDir);
    const notes: string[] = [];
    let firstStep = 0;
    const again = await runHypothesisDetailed(TINY, {
      ...BASE,
      ...options,
      onNote: (n) => notes.push(n),
      onStep: ({ step }) => {
        firstStep ||= step;
      },
    });
    assert.match(notes.join("\n"), /resuming from the checkpoint at step 9/);
    assert.equal(firstStep, 10, "only the last step trains again");
    assert.deepEqual(again.record.loss, plain.record.loss);
    assert.deepEqual(again.record.final, plain.record.final);
    assert.deepEqual(
      await fileDigest(`${options.cacheDir}/${again.record.history!.file}`),
      await fileDigest(`${dir}/plain-cache/${plain.record.history!.file}`),
    );
    assert.equal(await options.checkpoints.store.load(), null);
  });
});

Deno.test("a checkpoint its key holder edited resumes, but the record it would end in is refused: nothing written, the checkpoint kept", async () => {
  await withTempDir(async (dir) => {
    const { ckpt, options } = place(dir, "keyholder");
    await stopAfterStep7(options);
    const key = await Deno.readFile(`${dir}/${SEAL_KEY_FILE}`);
    // A 10-step run records no step 55: the record would contradict itself.
    const edited = editAndRedigest(await Deno.readFile(ckpt), (m) => {
      m.first_split = "55";
    }, { hmacKey: key });
    await Deno.writeFile(ckpt, edited);
    const refused = (e: unknown) =>
      e instanceof InconsistentRecordError &&
      e.message ===
        `refusing to write the record ${options.recordsDir}/resume-integrity/smoke-seed42-cpu.json: trajectory.firstSplit 55 is not a recorded step; nothing was written; the checkpoint ${ckpt} is kept for inspection (resuming from it writes the same record: remove it to train from step 0)`;
    // The message's promise: the kept checkpoint (now the step-9 one, still
    // carrying the edit) ends in the same refusal.
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        runHypothesisDetailed(TINY, { ...BASE, ...options }),
        refused,
      );
      assert.deepEqual(
        await Array.fromAsync(Deno.readDir(options.recordsDir)).catch(() => []),
        [],
        "no record",
      );
      assert.notEqual(
        await options.checkpoints.store.load(),
        null,
        "the checkpoint kept",
      );
    }
  });
});
