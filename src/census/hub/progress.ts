/**
 * The census's progress line for tensor data fetched from the hub, in
 * bytes, on stderr: redrawn in place on a terminal, otherwise one line when
 * a tensor starts and one when it is done (logs stay short).
 *
 * @module
 */

import type { HubProgress } from "./weights.ts";

/** `1536` -> `"1.5 KiB"`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * The text of one progress line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubProgressLine } from "./progress.ts";
 * assert.equal(
 *   hubProgressLine({ tensor: "lm_head.weight", done: 512, total: 2048, fetchedBytes: 4096 }),
 *   "hub: lm_head.weight 512 B / 2.0 KiB (25%), 4.0 KiB fetched in all",
 * );
 * ```
 */
export function hubProgressLine(p: HubProgress): string {
  const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
  return `hub: ${p.tensor} ${formatBytes(p.done)} / ${
    formatBytes(p.total)
  } (${pct}%), ${formatBytes(p.fetchedBytes)} fetched in all`;
}

/** An `onProgress` callback drawing {@linkcode hubProgressLine} on stderr. */
export function hubProgressReporter(): (p: HubProgress) => void {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  let lastDraw = 0;
  return (p) => {
    const finished = p.done === p.total;
    if (tty) {
      const now = performance.now();
      if (now - lastDraw < 200 && !finished && p.done > 0) return;
      lastDraw = now;
      Deno.stderr.writeSync(
        enc.encode(`\r\x1b[2K${hubProgressLine(p)}${finished ? "\n" : ""}`),
      );
    } else if (p.done === 0 || finished) {
      Deno.stderr.writeSync(enc.encode(`${hubProgressLine(p)}\n`));
    }
  };
}
