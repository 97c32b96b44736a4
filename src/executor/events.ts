/**
 * What every executor (this process, the local pool, the queue) reports
 * about a run it executes: one {@link RunEvent} union, each variant with
 * exactly its fields. A pool job sends them to its parent as JSON lines
 * ({@link formatRunEvent}); the parent reads them back with
 * {@link parseRunEvent}, which checks every field, so a malformed line is an
 * error naming the field instead of a value of the wrong type further on.
 *
 * @module
 */

import { isRunSpec, type RunSpec } from "./plan.ts";
import { parseRecord } from "../history/records.ts";
import type { RunRecord } from "../hypothesis/types.ts";

/** Something that happened to one run, named by its {@link RunSpec}. */
export type RunEvent =
  /** The run was handed to what trains it. */
  | { readonly type: "started"; readonly spec: RunSpec }
  /** Step `step` of `steps` is done, with its batch's loss. */
  | {
    readonly type: "progress";
    readonly spec: RunSpec;
    readonly step: number;
    readonly steps: number;
    readonly loss: number;
  }
  /** A checkpoint after step `step` is saved: a restart resumes there. */
  | {
    readonly type: "checkpointed";
    readonly spec: RunSpec;
    readonly step: number;
  }
  /** Why a cached record was not used, a resume, what a run lacks. */
  | { readonly type: "note"; readonly spec: RunSpec; readonly text: string }
  /**
   * The run has its record; `replicas`: runs trained in one graph with it,
   * itself included (1: alone; 0: not trained, its record existed).
   */
  | {
    readonly type: "finished";
    readonly spec: RunSpec;
    readonly record: RunRecord;
    readonly replicas: number;
  }
  /**
   * The run diverged (its record, if written, says `invalid`). `record`: its
   * `diverged` record, where the executor hands records back instead of
   * writing them (the queue).
   */
  | {
    readonly type: "diverged";
    readonly spec: RunSpec;
    readonly message: string;
    readonly record?: RunRecord;
  }
  /** The run failed for another reason. */
  | {
    readonly type: "failed";
    readonly spec: RunSpec;
    readonly message: string;
  }
  /** The run was stopped before its last step (it resumes from a checkpoint). */
  | {
    readonly type: "stopped";
    readonly spec: RunSpec;
    readonly message: string;
  };

/** The event types of a run's last event. */
export type RunEnd = Extract<
  RunEvent,
  { readonly type: "finished" | "diverged" | "failed" | "stopped" }
>;

/** Whether `e` is a run's last event. */
export function isRunEnd(e: RunEvent): e is RunEnd {
  return e.type === "finished" || e.type === "diverged" ||
    e.type === "failed" || e.type === "stopped";
}

/** A line that is not a {@link RunEvent}. */
export class RunEventError extends Error {
  /** Error name, shown in messages and stack traces. */
  override name = "RunEventError";
}

/**
 * One JSON line (no newline) of `e`. A loss of NaN or Infinity, which JSON
 * cannot hold, is written as null and read back as NaN.
 */
export function formatRunEvent(e: RunEvent): string {
  return JSON.stringify(e);
}

/**
 * Parses one JSON line into a {@link RunEvent}, checking its type and every
 * field it needs. Throws a {@link RunEventError} naming the field at fault.
 */
export function parseRunEvent(line: string): RunEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new RunEventError(
      `run event is not JSON (${(e as Error).message}): ${line.slice(0, 80)}`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new RunEventError(
      `run event is not a JSON object: ${line.slice(0, 80)}`,
    );
  }
  const o = new Map<string, unknown>(Object.entries(value));
  const type = o.get("type");
  const fail = (field: string, problem: string): never => {
    throw new RunEventError(
      `run event ${JSON.stringify(type)}: field "${field}" ${problem}`,
    );
  };
  const specField = o.get("spec");
  const spec = isRunSpec(specField)
    ? specField
    : fail("spec", "is not a run spec");
  const int = (field: string): number => {
    const v = o.get(field);
    return typeof v === "number" && Number.isSafeInteger(v) && v >= 0
      ? v
      : fail(field, "is not a non-negative integer");
  };
  const text = (field: string): string => {
    const v = o.get(field);
    return typeof v === "string" ? v : fail(field, "is not a string");
  };
  const record = (): RunRecord => {
    try {
      return parseRecord(JSON.stringify(o.get("record")), "the event's record");
    } catch (e) {
      return fail("record", `is not a run record (${(e as Error).message})`);
    }
  };
  switch (type) {
    case "started":
      return { type, spec };
    case "progress": {
      const v = o.get("loss");
      const loss = v === null
        ? NaN
        : typeof v === "number"
        ? v
        : fail("loss", "is not a number");
      return { type, spec, step: int("step"), steps: int("steps"), loss };
    }
    case "checkpointed":
      return { type, spec, step: int("step") };
    case "note":
      return { type, spec, text: text("text") };
    case "finished":
      return { type, spec, record: record(), replicas: int("replicas") };
    case "diverged": {
      const message = text("message");
      return o.get("record") === undefined
        ? { type, spec, message }
        : { type, spec, message, record: record() };
    }
    case "failed":
    case "stopped":
      return { type, spec, message: text("message") };
    default:
      throw new RunEventError(
        `run event has unknown type ${
          JSON.stringify(type)
        }: field "type" must be one of started, progress, checkpointed, note, finished, diverged, failed, stopped`,
      );
  }
}
