/**
 * The census benchmark's baseline: plainly reading the tensor's bytes, in
 * each of several ways, timed by the wall clock and by the process's CPU
 * time. The kernel may copy faster with one kind of read or buffer than
 * another (blocking reads skip the hand-off to an I/O thread;
 * WebAssembly.Memory is mmap-backed), so every way is timed and the fastest
 * is the baseline.
 *
 * @module
 */

import process from "node:process";

/** Wall-clock and process CPU seconds of one run. */
export interface Timing {
  /** Wall-clock seconds. */
  wall: number;
  /** CPU seconds of the whole process (user + system, all threads). */
  cpu: number;
}

/**
 * Times `fn` by the wall clock and by the CPU time of the whole process
 * (user + system, all threads: the file reads run on a helper thread).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timed } from "./read_baseline.ts";
 * const t = await timed(() => new Promise((done) => setTimeout(done, 20)));
 * assert.ok(t.wall >= 0.015 && t.cpu >= 0);
 * ```
 */
export async function timed(fn: () => Promise<unknown>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** How the baseline reads: async or blocking reads, into which buffer. */
export interface ReadVariant {
  /** Shown in the report, e.g. `blocking, 16 MiB`. */
  name: string;
  /** Blocking (`readSync`) rather than async reads. */
  sync: boolean;
  /** Reused for every read; its length is the read size. */
  buffer: Uint8Array;
}

/**
 * The ways the baseline reads: async and blocking reads, at the census's
 * read size `blockBytes` and at 16 MiB, into an ordinary buffer, and at
 * `blockBytes` into WebAssembly memory like the census. `disk` (blocking,
 * 16 MiB) is the one timed from a cold page cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readVariants } from "./read_baseline.ts";
 * const { all, disk } = readVariants(1 << 20);
 * assert.deepEqual(all.map((v) => v.name), [
 *   "async, 16 MiB",
 *   "async, 1 MiB",
 *   "blocking, 16 MiB",
 *   "blocking, 1 MiB",
 *   "blocking, 1 MiB, wasm memory",
 * ]);
 * assert.equal(disk, all[2]);
 * ```
 */
export function readVariants(
  blockBytes: number,
): { all: ReadVariant[]; disk: ReadVariant } {
  const small = blockBytes;
  const large = 16 << 20;
  const plainLarge = new Uint8Array(large);
  const plainSmall = plainLarge.subarray(0, small);
  const wasm = new Uint8Array(
    new WebAssembly.Memory({ initial: Math.ceil(small / 65536) }).buffer,
    0,
    small,
  );
  const mib = (n: number) => `${n / (1 << 20)} MiB`;
  const disk = {
    name: `blocking, ${mib(large)}`,
    sync: true,
    buffer: plainLarge,
  };
  const all: ReadVariant[] = [
    { name: `async, ${mib(large)}`, sync: false, buffer: plainLarge },
    { name: `async, ${mib(small)}`, sync: false, buffer: plainSmall },
    disk,
    { name: `blocking, ${mib(small)}`, sync: true, buffer: plainSmall },
    {
      name: `blocking, ${mib(small)}, wasm memory`,
      sync: true,
      buffer: wasm,
    },
  ];
  return { all, disk };
}

/**
 * Reads the byte range `[offset, offset + length)` of `path` sequentially
 * into the variant's reused buffer: the plain way to read those bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRange } from "./read_baseline.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeFile(path, new Uint8Array(100));
 *   const buffer = new Uint8Array(16);
 *   await readRange(path, 10, 90, { name: "async", sync: false, buffer });
 *   await assert.rejects(
 *     readRange(path, 10, 91, { name: "blocking", sync: true, buffer }),
 *     /shorter/,
 *   );
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function readRange(
  path: string,
  offset: number,
  length: number,
  variant: ReadVariant,
): Promise<void> {
  const file = await Deno.open(path, { read: true });
  try {
    file.seekSync(offset, Deno.SeekMode.Start);
    const { buffer } = variant;
    let left = length;
    while (left > 0) {
      const into = buffer.subarray(0, Math.min(buffer.length, left));
      const n = variant.sync ? file.readSync(into) : await file.read(into);
      if (n === null) throw new Error("file shorter than its header says");
      left -= n;
    }
  } finally {
    file.close();
  }
}
