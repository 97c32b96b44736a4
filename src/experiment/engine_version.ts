/**
 * A fingerprint of the code that decides a run's numbers: every non-test
 * TypeScript file under src/graph, src/model, src/train and src/runtime, with
 * comments and whitespace removed (so reformatting or rewording a comment
 * does not invalidate cached runs). Cached results carry it, so an engine
 * change makes them stale instead of silently reused.
 *
 * @module
 */

const ENGINE_DIRS = ["graph", "model", "train", "runtime"];

async function listSources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await listSources(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      out.push(path);
    }
  }
  return out;
}

/** Source text without comments and whitespace (a fingerprint, not a parser). */
export function normaliseSource(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1")
    .replace(/\s+/g, "");
}

let cached: string | null = null;

/** SHA-256 (first 16 hex digits) over the engine's sources. */
export async function engineCodeVersion(): Promise<string> {
  if (cached) return cached;
  const src = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const files: string[] = [];
  for (const d of ENGINE_DIRS) files.push(...await listSources(`${src}/${d}`));
  files.sort();
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const f of files) {
    parts.push(enc.encode(f.slice(src.length) + "\0"));
    parts.push(enc.encode(normaliseSource(await Deno.readTextFile(f))));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  cached = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return cached;
}
