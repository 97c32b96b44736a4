/**
 * A one-line progress bar for long runs: steps/s, ETA and the latest loss.
 * On a terminal it redraws in place; otherwise (CI logs) it prints a line
 * every tenth of the run.
 *
 * @module
 */

/** Formats seconds as `1h02m`, `3m07s` or `42s`. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${
      String(Math.floor(s / 60) % 60).padStart(2, "0")
    }m`;
  }
  if (s >= 60) {
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  }
  return `${s}s`;
}

/** The text of one progress line (no terminal control codes). */
export function progressLine(
  label: string,
  done: number,
  total: number,
  elapsedMs: number,
  loss: number,
  width = 24,
): string {
  const frac = total > 0 ? done / total : 1;
  const filled = Math.round(frac * width);
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  return `${label} [${"#".repeat(filled)}${
    ".".repeat(width - filled)
  }] ${done}/${total} ` +
    `${rate.toFixed(1)} steps/s ETA ${formatEta(eta)} loss ${loss.toFixed(4)}`;
}

/** Returns an `onStep` callback that draws progress to stderr. */
export function progressReporter(
  label: string,
): (
  info: { step: number; steps: number; elapsedMs: number; loss: number },
) => void {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  let lastDraw = 0;
  let lastDecile = -1;
  return ({ step, steps, elapsedMs, loss }) => {
    const line = progressLine(label, step, steps, elapsedMs, loss);
    if (tty) {
      const now = performance.now();
      if (now - lastDraw < 200 && step < steps) return;
      lastDraw = now;
      Deno.stderr.writeSync(
        enc.encode(`\r\x1b[2K${line}${step === steps ? "\n" : ""}`),
      );
    } else {
      const decile = Math.floor((10 * step) / steps);
      if (decile === lastDecile && step < steps) return;
      lastDecile = decile;
      Deno.stderr.writeSync(enc.encode(line + "\n"));
    }
  };
}
