/**
 * Compact SVG path data: positions rounded to 0.1 px (the plots are 720 px
 * wide; a tenth of a pixel does not show), written as relative moves with
 * the shortest numbers SVG's path grammar allows.
 *
 * @module
 */

/**
 * Builds a path's `d` attribute from absolute positions in px. Each position
 * is rounded to a tenth of a pixel once and every move is written as the
 * exact difference of two rounded positions (in whole tenths), so rounding
 * never accumulates along a path: every vertex a viewer reconstructs lies
 * within 0.05 px of its exact position on each axis.
 *
 * The text is as short as the grammar allows: `l`, `h`, `v` (a repeated
 * command letter left out), no leading zero (`.5`), no trailing zeros, no
 * separator before a minus sign or before a `.` that follows a number with a
 * point (`1.5.5` reads as 1.5 and .5). Moves that go nowhere are left out
 * and consecutive horizontal (vertical) moves in one direction are merged:
 * both draw the same picture.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PathData } from "./path.ts";
 * const d = new PathData();
 * d.moveTo(54, 294);
 * d.lineTo(54.5, 293.04); // 0.5 right, 1 up (rounded to tenths)
 * d.lineTo(60, 293.04);
 * d.lineTo(65.96, 293);
 * assert.equal(d.toString(), "M54 294l.5-1h11.5");
 * ```
 */
export class PathData {
  #out = "";
  /** The letter of the last command written ("" before the first). */
  #command = "";
  /** The last number written since the last letter ("" right after one). */
  #lastNumber = "";
  /** The current point and the start of the current subpath, in tenths. */
  #x = 0;
  #y = 0;
  #startX = 0;
  #startY = 0;
  /** A horizontal or vertical move not written yet (to merge the next). */
  #pending: { command: "h" | "v"; delta: number } | null = null;

  /** Starts a subpath at (x, y) px. */
  moveTo(x: number, y: number): void {
    this.#flush();
    const tx = tenths(x);
    const ty = tenths(y);
    if (this.#out === "") this.#write("M", [tx, ty], false);
    // A repeated `m` would read as `l`: always write the letter.
    else this.#write("m", [tx - this.#x, ty - this.#y], false);
    this.#x = this.#startX = tx;
    this.#y = this.#startY = ty;
  }

  /** A straight line to (x, y) px. */
  lineTo(x: number, y: number): void {
    const tx = tenths(x);
    const ty = tenths(y);
    if (ty === this.#y) return this.#axisMove("h", tx - this.#x);
    if (tx === this.#x) return this.#axisMove("v", ty - this.#y);
    this.#flush();
    this.#write("l", [tx - this.#x, ty - this.#y], true);
    this.#x = tx;
    this.#y = ty;
  }

  /** A horizontal line to x px. */
  horizontalTo(x: number): void {
    this.#axisMove("h", tenths(x) - this.#x);
  }

  /** A vertical line to y px. */
  verticalTo(y: number): void {
    this.#axisMove("v", tenths(y) - this.#y);
  }

  /** Closes the subpath (back to where it started). */
  close(): void {
    this.#flush();
    this.#write("z", [], false);
    this.#x = this.#startX;
    this.#y = this.#startY;
  }

  /** Whether nothing has been drawn yet. */
  get empty(): boolean {
    return this.#out === "" && this.#pending === null;
  }

  /** The `d` attribute's value. */
  toString(): string {
    this.#flush();
    return this.#out;
  }

  #axisMove(command: "h" | "v", delta: number): void {
    if (delta === 0) return;
    const p = this.#pending;
    if (p && p.command === command && Math.sign(p.delta) === Math.sign(delta)) {
      p.delta += delta;
    } else {
      this.#flush();
      this.#pending = { command, delta };
    }
    if (command === "h") this.#x += delta;
    else this.#y += delta;
  }

  #flush(): void {
    const p = this.#pending;
    if (p === null) return;
    this.#pending = null;
    this.#write(p.command, [p.delta], true);
  }

  /** Writes a command; `repeatable` ones leave out a repeated letter. */
  #write(command: string, values: number[], repeatable: boolean): void {
    if (!(repeatable && command === this.#command)) {
      this.#out += command;
      this.#command = command;
      this.#lastNumber = "";
    }
    for (const v of values) {
      const text = formatTenths(v);
      this.#out += needsSeparator(this.#lastNumber, text) ? " " + text : text;
      this.#lastNumber = text;
    }
  }
}

/** A px value in whole tenths of a pixel. */
function tenths(v: number): number {
  if (!Number.isFinite(v)) throw new RangeError(`not a position: ${v}`);
  return Math.round(v * 10) + 0; // + 0: no -0
}

/**
 * A whole number of tenths as the shortest SVG number: 13 -> "1.3",
 * -5 -> "-.5", 20 -> "2".
 */
export function formatTenths(t: number): string {
  const sign = t < 0 ? "-" : "";
  const a = Math.abs(t);
  const whole = Math.floor(a / 10);
  const tenth = a % 10;
  if (tenth === 0) return sign + whole;
  return sign + (whole === 0 ? "" : String(whole)) + "." + tenth;
}

/** Whether `next` written right after `previous` would merge with it. */
function needsSeparator(previous: string, next: string): boolean {
  if (previous === "" || next.startsWith("-")) return false;
  return !(next.startsWith(".") && previous.includes("."));
}
