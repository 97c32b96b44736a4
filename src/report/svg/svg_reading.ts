/**
 * Reading a chart back, for the tests: a well-formedness check of the XML,
 * the `d` attributes of its paths, and a decoder of SVG path data written
 * from the grammar (SVG 1.1, 8.3), independently of the encoder in
 * `path.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";

/**
 * Checks that every tag is closed in order, that attributes are quoted and
 * that text holds no stray `<` or unescaped `&`; returns the root tag names.
 */
export function checkWellFormed(svg: string): string[] {
  const stack: string[] = [];
  const roots: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:"[^"]*"|[^>"])*?)(\/?)>/g;
  let last = 0;
  for (const m of svg.matchAll(tag)) {
    const between = svg.slice(last, m.index);
    assert.ok(!between.includes("<"), `stray '<' near ${m.index}`);
    assert.ok(
      !/&(?!amp;|lt;|gt;|quot;|#39;)/.test(between),
      `unescaped '&' in ${between}`,
    );
    last = m.index! + m[0].length;
    const [, close, name, attrs, self] = m;
    assert.match(
      attrs,
      /^(\s+[A-Za-z][\w:-]*="[^"<]*")*\s*$/,
      `attributes of <${name}>`,
    );
    if (close) {
      assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    } else if (!self) {
      if (stack.length === 0) roots.push(name);
      stack.push(name);
    } else if (stack.length === 0) roots.push(name);
  }
  assert.deepEqual(stack, [], "unclosed tags");
  assert.equal(svg.slice(last).trim(), "");
  return roots;
}

/** The `d` of every `<path>` whose attributes match `attrs`, in order. */
export function pathsOf(svg: string, attrs: RegExp = /./): string[] {
  return [...svg.matchAll(/<path ([^>]*)\/>/g)]
    .filter((m) => attrs.test(m[1]))
    .map((m) => m[1].match(/(?:^| )d="([^"]*)"/)![1]);
}

/** A vertex in px. */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** One subpath: its vertices in drawing order, and whether it is closed. */
export interface Subpath {
  readonly points: Point[];
  readonly closed: boolean;
}

/**
 * The subpaths of path data made of M, L, H, V and Z (either case), with
 * every vertex in absolute px. Implicit repetition and numbers without
 * separators (`1.5.5`, `1-2`) are read as the grammar says.
 */
export function decodePath(d: string): Subpath[] {
  const tokens = d.match(
    /[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[\s,]+|./g,
  ) ?? [];
  const items: (string | number)[] = [];
  for (const t of tokens) {
    if (/^[\s,]+$/.test(t)) continue;
    if (/^[A-Za-z]$/.test(t)) {
      assert.ok("MmLlHhVvZz".includes(t), `unexpected command ${t}`);
      items.push(t);
    } else {
      const v = Number(t);
      assert.ok(Number.isFinite(v), `not a number: ${JSON.stringify(t)}`);
      items.push(v);
    }
  }
  const subpaths: Subpath[] = [];
  let points: Point[] = [];
  let closed = false;
  let x = 0, y = 0, startX = 0, startY = 0;
  let command = "";
  const end = () => {
    if (points.length > 0) subpaths.push({ points, closed });
    points = [];
    closed = false;
  };
  let k = 0;
  const next = (): number => {
    const v = items[k++];
    assert.equal(typeof v, "number", `a number expected at item ${k - 1}`);
    return v as number;
  };
  while (k < items.length) {
    if (typeof items[k] === "string") command = items[k++] as string;
    else {
      assert.ok(command !== "" && !"Zz".includes(command), "number first");
    }
    const rel = command === command.toLowerCase();
    switch (command.toUpperCase()) {
      case "M": {
        const nx = next(), ny = next();
        end();
        x = startX = rel ? x + nx : nx;
        y = startY = rel ? y + ny : ny;
        points.push({ x, y });
        command = rel ? "l" : "L"; // further pairs are lines
        break;
      }
      case "L": {
        const nx = next(), ny = next();
        x = rel ? x + nx : nx;
        y = rel ? y + ny : ny;
        points.push({ x, y });
        break;
      }
      case "H":
        x = rel ? x + next() : next();
        points.push({ x, y });
        break;
      case "V":
        y = rel ? y + next() : next();
        points.push({ x, y });
        break;
      default: // Z
        closed = true;
        x = startX;
        y = startY;
        end();
        command = "";
    }
  }
  end();
  return subpaths;
}

/** The distance from `p` to the segment from `a` to `b`. */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x, dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
  t = Math.min(1, Math.max(0, t));
  return Math.hypot(p.x - a.x - t * dx, p.y - a.y - t * dy);
}

/** The distance from `p` to the nearest segment (or vertex) of `points`. */
export function distanceToPolyline(p: Point, points: readonly Point[]): number {
  if (points.length === 1) {
    return Math.hypot(p.x - points[0].x, p.y - points[0].y);
  }
  let best = Infinity;
  for (let i = 1; i < points.length; i++) {
    best = Math.min(best, distanceToSegment(p, points[i - 1], points[i]));
  }
  return best;
}
