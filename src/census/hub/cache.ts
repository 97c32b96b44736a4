/**
 * The local cache of what the census fetched from the hub, so that a second
 * census of the same model fetches no file bytes.
 *
 * Layout under `<cacheDir>/hub/<host>/<org>/<name>/`:
 *
 * - `revisions/<revision>.json`: the file listing and commit sha a
 *   revision resolved to (reused without asking when the revision is itself
 *   a commit sha, since a commit never changes);
 * - `<sha>/`: one folder per commit (`rev-<revision>` when the hub gave no
 *   sha), holding whole files under their own names (`tokenizer.json`, so
 *   the folder reads like a model folder), and `ranges/<file>/` with the
 *   byte ranges read from each safetensors file, named `<start>-<end>`, and
 *   `meta.json` (the file's size and ETag).
 *
 * Every file is written to a temporary name and renamed, so an interrupted
 * census leaves no partial entry that a later one would trust.
 *
 * @module
 */

import { writeFileAtomic } from "../../io/atomic.ts";
import { readFileOrNull } from "../../io/read_or_null.ts";

/** Size and ETag of a remote file, as first seen. */
export interface RemoteFileMeta {
  /** Bytes in the whole file (Content-Range total). */
  size: number;
  /** The ETag the hub sent, if any. */
  etag: string | null;
}

/** A revision's listing, see {@linkcode HubCache.readRevision}. */
export interface RevisionListing {
  /** Commit sha the revision resolved to (`null`: the hub did not say). */
  sha: string | null;
  /** File names in the repo at that commit. */
  files: string[];
}

/** `name` as one path component (never `.`, `..` or containing `/`). */
function encode(name: string): string {
  return encodeURIComponent(name).replace(/^\./, "%2E");
}

/** The cached files of one commit (or revision) of a repo. */
export class SnapshotCache {
  /** The folder; whole files lie in it under their own names. */
  readonly dir: string;

  /** The cache folder of one commit; see {@linkcode HubCache.snapshot}. */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** Where a whole file (e.g. `tokenizer.json`) is kept. */
  wholePath(file: string): string {
    return `${this.dir}/${encode(file)}`;
  }

  /** Where bytes `[start, end)` of `file` are kept. */
  rangePath(file: string, start: number, end: number): string {
    return `${this.dir}/ranges/${encode(file)}/${start}-${end}`;
  }

  /** A whole file, or `null` when not cached. */
  readWhole(file: string): Promise<Uint8Array | null> {
    return readFileOrNull(this.wholePath(file));
  }

  /** Keeps a whole file. */
  writeWhole(file: string, bytes: Uint8Array): Promise<void> {
    return writeFileAtomic(this.wholePath(file), bytes, { createDirs: true });
  }

  /** Bytes `[start, end)` of `file`, or `null` when not cached (or damaged). */
  async readRange(
    file: string,
    start: number,
    end: number,
  ): Promise<Uint8Array | null> {
    const bytes = await readFileOrNull(this.rangePath(file, start, end));
    return bytes !== null && bytes.length === end - start ? bytes : null;
  }

  /** Keeps bytes `[start, start + bytes.length)` of `file`. */
  writeRange(file: string, start: number, bytes: Uint8Array): Promise<void> {
    return writeFileAtomic(
      this.rangePath(file, start, start + bytes.length),
      bytes,
      { createDirs: true },
    );
  }

  /** Whether `[start, end)` of `file` is cached whole. */
  async hasRange(file: string, start: number, end: number): Promise<boolean> {
    try {
      return (await Deno.stat(this.rangePath(file, start, end))).size ===
        end - start;
    } catch {
      return false;
    }
  }

  /** Size and ETag of `file` as first seen, or `null`. */
  async readMeta(file: string): Promise<RemoteFileMeta | null> {
    const bytes = await readFileOrNull(this.#metaPath(file));
    if (bytes === null) return null;
    try {
      const m = JSON.parse(new TextDecoder().decode(bytes));
      return Number.isSafeInteger(m?.size) &&
          (m.etag === null || typeof m.etag === "string")
        ? { size: m.size, etag: m.etag }
        : null;
    } catch {
      return null; // damaged: fetched again
    }
  }

  /** Records size and ETag of `file`. */
  writeMeta(file: string, meta: RemoteFileMeta): Promise<void> {
    return writeFileAtomic(
      this.#metaPath(file),
      new TextEncoder().encode(JSON.stringify(meta)),
      { createDirs: true },
    );
  }

  #metaPath(file: string): string {
    return `${this.dir}/ranges/${encode(file)}/meta.json`;
  }
}

/** The cache of one repo on one hub endpoint. */
export class HubCache {
  readonly #root: string;

  /**
   * The cache of `repo` on `endpoint`, under `cacheDir/hub/`.
   *
   * @param cacheDir the project's cache folder (`.cache/` or `HORIZON_CACHE_DIR`)
   * @param endpoint the hub, e.g. `https://huggingface.co` (a mirror is cached apart)
   * @param repo `org/name`
   */
  constructor(cacheDir: string, endpoint: string, repo: string) {
    const host = encode(new URL(endpoint).host);
    const [org, name] = repo.split("/");
    this.#root = `${cacheDir.replace(/\/+$/, "")}/hub/${host}/${encode(org)}/${
      encode(name)
    }`;
  }

  /** The listing `revision` resolved to last time, or `null`. */
  async readRevision(revision: string): Promise<RevisionListing | null> {
    const bytes = await readFileOrNull(this.#revisionPath(revision));
    if (bytes === null) return null;
    try {
      const r = JSON.parse(new TextDecoder().decode(bytes));
      const ok = (r?.sha === null || typeof r?.sha === "string") &&
        Array.isArray(r?.files) &&
        r.files.every((f: unknown) => typeof f === "string");
      return ok ? { sha: r.sha, files: r.files } : null;
    } catch {
      return null;
    }
  }

  /** Records what `revision` resolved to. */
  writeRevision(revision: string, listing: RevisionListing): Promise<void> {
    return writeFileAtomic(
      this.#revisionPath(revision),
      new TextEncoder().encode(JSON.stringify(listing)),
      { createDirs: true },
    );
  }

  /** The cache of one commit (`sha`), or of `revision` when no sha is known. */
  snapshot(sha: string | null, revision: string): SnapshotCache {
    return new SnapshotCache(
      `${this.#root}/${sha !== null ? encode(sha) : `rev-${encode(revision)}`}`,
    );
  }

  #revisionPath(revision: string): string {
    return `${this.#root}/revisions/${encode(revision)}.json`;
  }
}
