/**
 * The "Provenance" table: where a run's numbers come from (backend, engine,
 * keys and digests, versions, timings).
 *
 * @module
 */

import type { RunRecord } from "../../hypothesis/types.ts";
import { table } from "./blocks.ts";
import { codeSpan, escapeCell } from "./escape.ts";
import { formatDuration, formatInt } from "./format.ts";

/** The "Provenance" table of one run. */
export function provenanceTable(run: RunRecord): string {
  const c = run.corpus;
  const id = run.identity;
  return table(["field", "value"], [
    ["tier", run.tier],
    ["backend", escapeCell(run.backend)],
    ["engine", escapeCell(run.engine)],
    ["backend reason", escapeCell(run.backendReason)],
    ["status", run.status],
    ["run key", codeSpan(run.key)],
    ["step graph sha256", codeSpan(id.graphSha256)],
    ["host streams", codeSpan(id.hostStreams)],
    ["analysis version", String(id.analysis)],
    [
      "overrides",
      run.overrides.length ? run.overrides.map(codeSpan).join(" ") : "none",
    ],
    [
      "corpus",
      `${codeSpan(c.path)}, ${formatInt(c.bytes)} bytes, sha256 ${
        codeSpan(c.sha256)
      }`,
    ],
    [
      "final embedding sha256",
      run.final ? codeSpan(run.final.embeddingSha256) : "— (diverged)",
    ],
    [
      "history file",
      run.history === null
        ? "none"
        : `${codeSpan(run.history.file)}, ${
          formatInt(run.history.bytes)
        } bytes, sha256 ${codeSpan(run.history.sha256)}`,
    ],
    ["cpu threads", run.threads === null ? "—" : String(run.threads)],
    ["Deno", escapeCell(run.versions.deno)],
    ["onnxruntime", escapeCell(run.versions.onnxruntime)],
    ["wall time", formatDuration(run.wallMs)],
    ["finished at", escapeCell(run.finishedAt)],
  ]);
}
