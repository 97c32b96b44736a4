/**
 * Dropping a file's pages from the page cache, so that the next read comes
 * from the disk itself (the census benchmark's cold runs).
 *
 * @module
 */

/** Drops files' pages from the page cache; `close` releases libc. */
export interface PageCacheDropper {
  /** Drops the cached pages of the file at `path`. */
  drop(path: string): void;
  /** Closes the library handle. */
  close(): void;
}

/**
 * A dropper using Linux `posix_fadvise(POSIX_FADV_DONTNEED)` via FFI, or
 * null where unavailable (not Linux, no glibc, or no FFI permission). Only
 * clean pages can be dropped: fsync a file before dropping it.
 *
 * @example
 * ```ts ignore
 * import { pageCacheDropper } from "./page_cache.ts";
 * const dropper = pageCacheDropper();
 * dropper?.drop("/tmp/model.safetensors");
 * dropper?.close();
 * ```
 */
export function pageCacheDropper(): PageCacheDropper | null {
  if (Deno.build.os !== "linux") return null;
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      open: { parameters: ["buffer", "i32"], result: "i32" },
      posix_fadvise: {
        parameters: ["i32", "i64", "i64", "i32"],
        result: "i32",
      },
      close: { parameters: ["i32"], result: "i32" },
    });
  } catch {
    return null; // no FFI permission, or no glibc
  }
  const lib = libc;
  return {
    drop(path) {
      const fd = lib.symbols.open(new TextEncoder().encode(`${path}\0`), 0);
      if (fd < 0) throw new Error(`cannot open ${path} to drop its cache`);
      const POSIX_FADV_DONTNEED = 4;
      const rc = lib.symbols.posix_fadvise(fd, 0n, 0n, POSIX_FADV_DONTNEED);
      lib.symbols.close(fd);
      if (rc !== 0) throw new Error(`posix_fadvise failed (${rc})`);
    },
    close: () => lib.close(),
  };
}
