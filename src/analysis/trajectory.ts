/**
 * Black-hole statistics along a training run.
 *
 * A history is a sequence of embedding snapshots `{step, bytes}` in their
 * stored encoding (bf16 for horizon's runs). Snapshots are consumed one at a
 * time, so a history file of 10,001 x 128 x 64 bf16 (164 MB) can be streamed
 * from disk with {@linkcode snapshotsFromSafetensors} without holding it.
 *
 * Per step: C, P and the cluster populations (bit-exact, see
 * `black_holes.ts`) and the centroid norm. Over the run: the first step at
 * which the number of clusters exceeds its value in the first snapshot
 * ("first split") and the first step at which fewer rows than the dead-token
 * count remain in clusters ("first escape").
 *
 * @module
 */

import {
  bf16BytesToFloat32,
  f16BytesToFloat32,
  type SafetensorsFile,
} from "../io/safetensors/mod.ts";
import { findBlackHoles } from "./black_holes.ts";
import { centroid } from "./embedding_stats.ts";
import type { BlackHoleOptions } from "./types.ts";

/** One recorded embedding: the step it was taken after, and its bytes. */
export interface Snapshot {
  /** Training step (the first snapshot is usually step 0, before training). */
  step: number;
  /** `rows * cols` elements of `dtype`, row-major, little-endian. */
  bytes: Uint8Array;
}

/** Element types a trajectory can decode for centroids. */
export type SnapshotDtype = "BF16" | "F16" | "F32";

const SIZES: Record<SnapshotDtype, number> = { BF16: 2, F16: 2, F32: 4 };

/** Options of {@linkcode computeTrajectory}. */
export interface TrajectoryOptions extends BlackHoleOptions {
  /** Rows per snapshot (vocabulary size). */
  rows: number;
  /** Columns per snapshot (embedding width). */
  cols: number;
  /** Stored element type; default `"BF16"`. */
  dtype?: SnapshotDtype;
  /**
   * Number of dead tokens (ids that never occur in the corpus). When given,
   * {@linkcode Trajectory.firstEscape} is the first step with `P` below it.
   */
  deadTokens?: number;
}

/** Statistics of one snapshot. */
export interface TrajectoryPoint {
  /** Training step. */
  step: number;
  /** Number of clusters (distinct vectors shared by >= 2 rows). */
  C: number;
  /** Rows in clusters. */
  P: number;
  /** Cluster populations, descending. */
  populations: number[];
  /** L2 norm of the mean row (float64). */
  centroidNorm: number;
}

/** Black-hole statistics over a whole history. */
export interface Trajectory {
  /** One point per snapshot, in step order. */
  points: TrajectoryPoint[];
  /** The first snapshot, against which splits are judged. */
  baseline: TrajectoryPoint;
  /** First step with `C` above the baseline's `C`; `null` if none. */
  firstSplit: number | null;
  /**
   * First step with `P` below `deadTokens`; `null` if none or if
   * `deadTokens` was not given.
   */
  firstEscape: number | null;
  /** Distance between the last and the first snapshot's centroids. */
  centroidDisplacement: number;
}

/** A history or its options cannot be analysed. */
export class TrajectoryError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "TrajectoryError";
  }
}

function decode(bytes: Uint8Array, dtype: SnapshotDtype): Float32Array {
  switch (dtype) {
    case "BF16":
      return bf16BytesToFloat32(bytes);
    case "F16":
      return f16BytesToFloat32(bytes);
    case "F32":
      // slice(): the snapshot may sit at an offset that is not 4-aligned.
      return new Float32Array(bytes.slice().buffer);
  }
}

/**
 * Computes C, P and centroid norm per snapshot, the first split and the first
 * escape. Snapshots must come in strictly increasing step order.
 *
 * @example Two rows that split apart at step 5
 * ```ts
 * import { computeTrajectory } from "./trajectory.ts";
 * const one = [0x80, 0x3f]; // bf16 1.0
 * const two = [0x00, 0x40]; // bf16 2.0
 * const t = await computeTrajectory([
 *   { step: 0, bytes: new Uint8Array([...one, ...one]) },
 *   { step: 5, bytes: new Uint8Array([...one, ...two]) },
 * ], { rows: 2, cols: 1, deadTokens: 2 });
 * t.points.map((p) => p.P); // [2, 0]
 * t.firstEscape; // 5
 * ```
 */
export async function computeTrajectory(
  snapshots: Iterable<Snapshot> | AsyncIterable<Snapshot>,
  options: TrajectoryOptions,
): Promise<Trajectory> {
  const { rows, cols, deadTokens } = options;
  const dtype = options.dtype ?? "BF16";
  if (!(dtype in SIZES)) {
    throw new TrajectoryError(`unsupported dtype ${JSON.stringify(dtype)}`);
  }
  if (
    !Number.isSafeInteger(rows) || rows <= 0 || !Number.isSafeInteger(cols) ||
    cols <= 0
  ) {
    throw new TrajectoryError(
      `rows and cols must be positive integers, got ${rows} x ${cols}`,
    );
  }
  if (
    deadTokens !== undefined &&
    (!Number.isSafeInteger(deadTokens) || deadTokens < 0)
  ) {
    throw new TrajectoryError(
      `deadTokens must be a non-negative integer, got ${deadTokens}`,
    );
  }
  const rowBytes = cols * SIZES[dtype];
  const points: TrajectoryPoint[] = [];
  let firstSplit: number | null = null;
  let firstEscape: number | null = null;
  let firstCentroid: Float64Array | null = null;
  let lastCentroid: Float64Array | null = null;

  for await (const { step, bytes } of snapshots) {
    if (!Number.isSafeInteger(step)) {
      throw new TrajectoryError(`step ${step} is not an integer`);
    }
    const prev = points.at(-1);
    if (prev !== undefined && step <= prev.step) {
      throw new TrajectoryError(
        `steps must increase: step ${step} comes after step ${prev.step}`,
      );
    }
    if (bytes.length !== rows * rowBytes) {
      throw new TrajectoryError(
        `snapshot at step ${step} has ${bytes.length} bytes, expected ${rows} x ${cols} ${dtype} = ${
          rows * rowBytes
        }`,
      );
    }
    const report = findBlackHoles({ bytes, rows, rowBytes }, {
      ...options,
      dtype,
    });
    const c = centroid(decode(bytes, dtype), rows, cols);
    let sq = 0;
    for (const x of c) sq += x * x;
    const point: TrajectoryPoint = {
      step,
      C: report.C,
      P: report.P,
      populations: report.clusters.map((k) => k.population),
      centroidNorm: Math.sqrt(sq),
    };
    points.push(point);
    if (firstCentroid === null) firstCentroid = c;
    lastCentroid = c;
    if (firstSplit === null && point.C > points[0].C) firstSplit = step;
    if (
      firstEscape === null && deadTokens !== undefined && point.P < deadTokens
    ) firstEscape = step;
  }
  if (points.length === 0 || firstCentroid === null || lastCentroid === null) {
    throw new TrajectoryError("the history holds no snapshots");
  }
  let d = 0;
  for (let k = 0; k < cols; k++) d += (lastCentroid[k] - firstCentroid[k]) ** 2;
  return {
    points,
    baseline: points[0],
    firstSplit,
    firstEscape,
    centroidDisplacement: Math.sqrt(d),
  };
}

/** Options of {@linkcode snapshotsFromSafetensors}. */
export interface SafetensorsSnapshotOptions {
  /** Name of the history tensor, shaped `[snapshots, rows, cols]`. */
  tensor: string;
  /** Step of each snapshot; default `0, 1, 2, ...`. */
  steps?: readonly number[];
  /** Bytes read per request (whole snapshots); default 16 MiB. */
  blockBytes?: number;
}

/**
 * Streams the snapshots of a `[snapshots, rows, cols]` history tensor from an
 * open safetensors file, a block of snapshots per read. Each yielded `bytes`
 * is valid until the iteration moves on (what {@linkcode computeTrajectory}
 * needs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSafetensors, writeSafetensors } from "../io/safetensors/mod.ts";
 * import { computeTrajectory, snapshotsFromSafetensors } from "./trajectory.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // Three snapshots of 3 rows x 1 column: rows 1 and 2 share a vector
 *   // at steps 0 and 10, and row 2 leaves at step 20.
 *   const data = new Float32Array([5, 0, 0, 5, 0, 0, 5, 0, 1]);
 *   await writeSafetensors(`${dir}/history.safetensors`, {
 *     wte: { dtype: "F32", shape: [3, 3, 1], data },
 *   });
 *   const file = await openSafetensors(`${dir}/history.safetensors`);
 *   try {
 *     const t = await computeTrajectory(
 *       snapshotsFromSafetensors(file, { tensor: "wte", steps: [0, 10, 20] }),
 *       { rows: 3, cols: 1, dtype: "F32", deadTokens: 2 },
 *     );
 *     assert.deepEqual(t.points.map((p) => p.P), [2, 2, 0]);
 *     assert.equal(t.firstEscape, 20);
 *   } finally {
 *     file.close();
 *   }
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function* snapshotsFromSafetensors(
  file: SafetensorsFile,
  options: SafetensorsSnapshotOptions,
): AsyncGenerator<Snapshot> {
  const info = file.tensor(options.tensor);
  if (info.shape.length !== 3) {
    throw new TrajectoryError(
      `tensor "${options.tensor}" has shape [${
        info.shape.join(", ")
      }]; a history is [snapshots, rows, cols]`,
    );
  }
  const count = info.shape[0];
  const steps = options.steps;
  if (steps !== undefined && steps.length !== count) {
    throw new TrajectoryError(
      `${steps.length} steps given for ${count} snapshots in "${options.tensor}"`,
    );
  }
  const snapshotBytes = count === 0 ? 0 : info.byteLength / count;
  const blocks = file.rowBlocks(options.tensor, {
    blockBytes: options.blockBytes,
  });
  for await (const block of blocks) {
    for (let i = 0; i < block.rowCount; i++) {
      const index = block.startRow + i;
      yield {
        step: steps?.[index] ?? index,
        bytes: block.bytes.subarray(
          i * snapshotBytes,
          (i + 1) * snapshotBytes,
        ),
      };
    }
  }
}
