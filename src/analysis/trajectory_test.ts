import assert from "node:assert/strict";
import {
  computeTrajectory,
  type Snapshot,
  snapshotsFromSafetensors,
  TrajectoryError,
} from "./trajectory.ts";
import { openSafetensors, writeSafetensors } from "../io/safetensors/mod.ts";

// bf16 encodings by hand: 1.0 = 0x3f80, 2.0 = 0x4000, 3.0 = 0x4040, 0 = 0x0000.
const ONE = [0x80, 0x3f];
const TWO = [0x00, 0x40];
const THREE = [0x40, 0x40];
const ZERO = [0x00, 0x00];

/** A 4-row, 2-column bf16 snapshot from rows of (bf16, bf16) pairs. */
function snap(step: number, rows: number[][][]): Snapshot {
  return { step, bytes: new Uint8Array(rows.flat(2)) };
}

/**
 * step 0: all four rows [1, 1]                -> C 1, P 4, centroid [1, 1]
 * step 10: rows [1,1] [1,1] [2,2] [2,2]       -> C 2, P 4 (first split)
 * step 20: rows [1,1] [1,1] [3,0] [2,2]       -> C 1, P 2 (first escape, 4 dead)
 * step 30: rows [1,1] [1,1] [3,0] [2,2]       -> unchanged
 */
function history(): Snapshot[] {
  return [
    snap(0, [[ONE, ONE], [ONE, ONE], [ONE, ONE], [ONE, ONE]]),
    snap(10, [[ONE, ONE], [ONE, ONE], [TWO, TWO], [TWO, TWO]]),
    snap(20, [[ONE, ONE], [ONE, ONE], [THREE, ZERO], [TWO, TWO]]),
    snap(30, [[ONE, ONE], [ONE, ONE], [THREE, ZERO], [TWO, TWO]]),
  ];
}

Deno.test("computeTrajectory() gives C, P, splits, escapes and centroids of a hand-made history", async () => {
  const t = await computeTrajectory(history(), {
    rows: 4,
    cols: 2,
    deadTokens: 4,
  });
  assert.deepEqual(t.points.map((p) => [p.step, p.C, p.P]), [
    [0, 1, 4],
    [10, 2, 4],
    [20, 1, 2],
    [30, 1, 2],
  ]);
  assert.deepEqual(t.points[1].populations, [2, 2]);
  assert.equal(t.baseline.step, 0);
  assert.equal(t.firstSplit, 10);
  assert.equal(t.firstEscape, 20);
  // Centroids: [1, 1], [1.5, 1.5], [1.75, 1], [1.75, 1].
  assert.equal(t.points[0].centroidNorm, Math.sqrt(2));
  assert.equal(t.points[1].centroidNorm, Math.sqrt(1.5 ** 2 + 1.5 ** 2));
  assert.equal(t.points[2].centroidNorm, Math.sqrt(1.75 ** 2 + 1));
  // Last minus first: [0.75, 0].
  assert.equal(t.centroidDisplacement, 0.75);
});

Deno.test("computeTrajectory() reports null when nothing splits or escapes", async () => {
  const still = [
    snap(0, [[ONE, ONE], [ONE, ONE], [TWO, ONE], [ONE, TWO]]),
    snap(1, [[ONE, ONE], [ONE, ONE], [TWO, ONE], [ONE, TWO]]),
  ];
  const t = await computeTrajectory(still, { rows: 4, cols: 2, deadTokens: 2 });
  assert.equal(t.firstSplit, null);
  assert.equal(t.firstEscape, null);
  assert.equal(t.centroidDisplacement, 0);
  const noDead = await computeTrajectory(history(), { rows: 4, cols: 2 });
  assert.equal(noDead.firstEscape, null);
});

Deno.test("computeTrajectory() reads F32 snapshots and async iterables", async () => {
  async function* gen(): AsyncGenerator<Snapshot> {
    // Rows [0.5], [0.5], [-0.5]: C 1, P 2, centroid 1/6.
    yield {
      step: 0,
      bytes: new Uint8Array(new Float32Array([0.5, 0.5, -0.5]).buffer),
    };
    // Unaligned bytes: the F32 snapshot starts at offset 1 of its buffer.
    const buf = new Uint8Array(13);
    buf.set(new Uint8Array(new Float32Array([0.5, -0.5, -0.5]).buffer), 1);
    yield { step: 7, bytes: buf.subarray(1) };
  }
  const t = await computeTrajectory(gen(), { rows: 3, cols: 1, dtype: "F32" });
  assert.deepEqual(t.points.map((p) => [p.C, p.P]), [[1, 2], [1, 2]]);
  assert.equal(t.points[0].centroidNorm, 0.5 / 3);
  assert.equal(t.points[1].centroidNorm, 0.5 / 3);
  assert.equal(t.centroidDisplacement, 1 / 3);
});

Deno.test("computeTrajectory() rejects inconsistent histories", async () => {
  await assert.rejects(
    computeTrajectory([snap(5, [[ONE]]), snap(5, [[ONE]])], {
      rows: 1,
      cols: 1,
    }),
    (e: unknown) =>
      e instanceof TrajectoryError && /steps must increase/.test(e.message),
  );
  await assert.rejects(
    computeTrajectory([snap(0, [[ONE]])], { rows: 2, cols: 1 }),
    /has 2 bytes, expected 2 x 1 BF16 = 4/,
  );
  await assert.rejects(
    computeTrajectory([], { rows: 1, cols: 1 }),
    /no snapshots/,
  );
  await assert.rejects(
    computeTrajectory([], { rows: 0, cols: 1 }),
    TrajectoryError,
  );
});

Deno.test("snapshotsFromSafetensors() streams a history file block by block", async () => {
  const dir = await Deno.makeTempDir({ prefix: "horizon_traj_" });
  try {
    const path = `${dir}/history.safetensors`;
    const bytes = new Uint8Array(history().flatMap((s) => [...s.bytes]));
    await writeSafetensors(path, {
      wte: { dtype: "BF16", shape: [4, 4, 2], data: bytes },
    });
    const file = await openSafetensors(path);
    try {
      // 16 bytes per snapshot, 40-byte blocks: 2 snapshots per read.
      const t = await computeTrajectory(
        snapshotsFromSafetensors(file, {
          tensor: "wte",
          steps: [0, 10, 20, 30],
          blockBytes: 40,
        }),
        { rows: 4, cols: 2, deadTokens: 4 },
      );
      assert.deepEqual(t.points.map((p) => [p.step, p.C, p.P]), [
        [0, 1, 4],
        [10, 2, 4],
        [20, 1, 2],
        [30, 1, 2],
      ]);
      assert.equal(t.firstSplit, 10);
      assert.equal(t.firstEscape, 20);

      const byIndex: number[] = [];
      for await (const s of snapshotsFromSafetensors(file, { tensor: "wte" })) {
        byIndex.push(s.step);
      }
      assert.deepEqual(byIndex, [0, 1, 2, 3]);
      await assert.rejects(
        (async () => {
          for await (
            const _ of snapshotsFromSafetensors(file, {
              tensor: "wte",
              steps: [0],
            })
          ) { /* unreachable */ }
        })(),
        /1 steps given for 4 snapshots/,
      );
    } finally {
      file.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
