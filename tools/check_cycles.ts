/**
 * Import-cycle gate: fails when a file, or a package (folder), of the tree
 * imports itself back through others.
 *
 * Modelled on denoland/std's `_tools/check_circular_package_dependencies.ts`,
 * but reading the import specifiers of our own sources instead of asking the
 * module graph, so that type-only imports (which `deno info` may elide) and
 * dynamic `import("./x.ts")` with a literal path count too: a cycle through a
 * type is still a cycle a reader has to untangle.
 *
 * Tests (`*_test.ts`) and `src/testing/` are left out: a test may import from
 * anywhere.
 *
 * A package is `src/<name>` for files under `src/`, else the top-level folder
 * (`hypotheses`, `bench`, `tools`, ...); `mod.ts` at the root is its own.
 *
 * Usage: `deno run -A tools/check_cycles.ts [root]` — prints each cycle and
 * exits 1 if there is one, else prints the counts and exits 0.
 *
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";

/** One strongly connected component of size > 1 (or a self-import). */
export type Cycle = readonly string[];

/** What {@linkcode findCycles} found. */
export interface CycleReport {
  /** Files (repo-relative) that import each other in a ring. */
  readonly fileCycles: readonly Cycle[];
  /** Packages that import each other in a ring. */
  readonly packageCycles: readonly Cycle[];
  /** Files scanned. */
  readonly files: number;
}

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/**
 * The relative import specifiers of one source text, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importSpecifiers } from "./check_cycles.ts";
 * const src = 'import { a } from "./a.ts";\nimport type { B } from "../b.ts";\n' +
 *   'export * from "./c.ts";\nconst d = await import("./d.ts");\nimport "node:fs";';
 * assert.deepEqual(importSpecifiers(src), ["./a.ts", "../b.ts", "./c.ts", "./d.ts"]);
 * ```
 */
export function importSpecifiers(source: string): string[] {
  const withoutComments = source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of withoutComments.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2];
    if (spec !== undefined && spec.startsWith(".")) out.push(spec);
  }
  return out;
}

/** The package a repo-relative file belongs to. */
export function packageOf(file: string): string {
  const parts = file.split("/");
  if (parts.length === 1) return file;
  if (parts[0] === "src" && parts.length > 2) return `src/${parts[1]}`;
  return parts[0];
}

function isChecked(file: string): boolean {
  return file.endsWith(".ts") && !file.endsWith("_test.ts") &&
    !file.startsWith("src/testing/") && !file.endsWith(".d.ts");
}

const SKIP_DIRS = new Set([
  "node_modules",
  ".cache",
  ".git",
  "fixtures",
  "reports",
]);

function listFiles(root: string, dir = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(root, dir))) {
    const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith(".")) {
        out.push(...listFiles(root, rel));
      }
    } else if (entry.isFile && isChecked(rel)) {
      out.push(rel);
    }
  }
  return out.sort();
}

/** Tarjan's strongly connected components; returns those that are cycles. */
export function stronglyConnected(
  graph: ReadonlyMap<string, ReadonlySet<string>>,
): Cycle[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: Cycle[] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) {
        cycles.push(component.sort());
      }
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** Scans `root` and returns its file and package cycles. */
export function findCycles(root: string): CycleReport {
  const files = listFiles(root);
  const fileGraph = new Map<string, Set<string>>();
  const packageGraph = new Map<string, Set<string>>();
  for (const file of files) {
    const edges = new Set<string>();
    const source = Deno.readTextFileSync(join(root, file));
    for (const spec of importSpecifiers(source)) {
      const target = relative(root, resolve(root, dirname(file), spec))
        .replaceAll("\\", "/");
      if (!isChecked(target)) continue;
      edges.add(target);
      const from = packageOf(file);
      const to = packageOf(target);
      if (from !== to) {
        if (!packageGraph.has(from)) packageGraph.set(from, new Set());
        packageGraph.get(from)!.add(to);
      }
    }
    fileGraph.set(file, edges);
  }
  return {
    fileCycles: stronglyConnected(fileGraph),
    packageCycles: stronglyConnected(packageGraph),
    files: files.length,
  };
}

if (import.meta.main) {
  const root = resolve(Deno.args[0] ?? ".");
  const report = findCycles(root);
  for (const c of report.fileCycles) {
    console.error(`file cycle (${c.length} files): ${c.join(", ")}`);
  }
  for (const c of report.packageCycles) {
    console.error(`package cycle: ${c.join(" <-> ")}`);
  }
  const bad = report.fileCycles.length + report.packageCycles.length;
  console.log(
    `check_cycles: ${report.files} files, ${report.fileCycles.length} file cycles, ${report.packageCycles.length} package cycles`,
  );
  if (bad > 0) Deno.exit(1);
}
