/**
 * The `cpu` backend: onnxruntime-node's CPU execution provider (native code,
 * the fastest engine on machines without a GPU).
 *
 * @module
 */

import * as ortNode from "onnxruntime-node";
import type { Engine } from "./engine.ts";
import { openOrtSession, type OrtApi } from "./ort_session.ts";

/** Read from the installed package, never written down by hand. */
const VERSION = ortNode.env.versions.node ?? ortNode.env.versions.common;

/** The onnxruntime-node CPU engine. */
export const cpuEngine: Engine = {
  name: "cpu",
  runtime: `onnxruntime-node ${VERSION}`,
  load(model, options = {}) {
    const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
    return openOrtSession(model, {
      backend: "cpu",
      name: "onnxruntime-node",
      description: `onnxruntime-node ${VERSION} CPU (${threads} threads)`,
      ort: ortNode as unknown as OrtApi,
      options: {
        executionProviders: ["cpu"],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
      },
    });
  },
};
