import assert from "node:assert/strict";
import { SEED_RUN, type TrainConfig } from "../step/config.ts";
import { hostStreamsDigest } from "../step/host_streams.ts";
import { withTempDir } from "../testing/helpers.ts";
import { runHypothesis } from "../run/run.ts";
import {
  identityDiff,
  runIdentity,
  type RunIdentityInputs,
} from "./run_key.ts";
import type { Hypothesis } from "./types.ts";

const JIGGLE: TrainConfig = {
  ...SEED_RUN,
  noise: { param: "transformer.wte.weight", scale: 3e-6 },
};
/** Length of the committed Brown corpus fixture. */
const BROWN_BYTES = 265_905;

const BASE: RunIdentityInputs = {
  config: SEED_RUN,
  steps: 300,
  corpus: { sha256: "ab".repeat(32), length: BROWN_BYTES },
  backend: "cpu",
  onnxruntime: "onnxruntime-node 1.30.0",
};

// Golden digests of the host-side streams (reviewed data, written by
// `deno test -A src/hypothesis/run_key_test.ts -- --update`). A change to
// initialisation, batch order, schedule or noise fails here, and the fix is
// either to undo it or to bump HOST_STREAMS_VERSION and update the file.
const GOLDEN = new URL(
  "../../fixtures/golden/host_streams.json",
  import.meta.url,
);

Deno.test("host-stream digests of the seed configurations match the golden file", async () => {
  const actual = {
    "seed-run/300": await hostStreamsDigest(SEED_RUN, BROWN_BYTES, 300),
    "seed-run/10000": await hostStreamsDigest(SEED_RUN, BROWN_BYTES, 10_000),
    "11.2b-noise/300": await hostStreamsDigest(JIGGLE, BROWN_BYTES, 300),
    "seed-run-seed1/300": await hostStreamsDigest(
      { ...SEED_RUN, seed: 1 },
      BROWN_BYTES,
      300,
    ),
  };
  if (Deno.args.includes("--update")) {
    await Deno.writeTextFile(GOLDEN, JSON.stringify(actual, null, 2) + "\n");
  }
  const golden = JSON.parse(await Deno.readTextFile(GOLDEN));
  assert.deepEqual(actual, golden);
  // And they are not all the same value.
  assert.equal(new Set(Object.values(actual)).size, 4);
});

Deno.test("the run key changes with each part of the identity, and only with them", async () => {
  const base = await runIdentity(BASE);
  const variants: [string, RunIdentityInputs][] = [
    ["backend", { ...BASE, backend: "wasm" }],
    ["onnxruntime", { ...BASE, onnxruntime: "onnxruntime-node 1.31.0" }],
    ["hostStreams, steps", { ...BASE, steps: 301 }],
    ["corpusSha256", {
      ...BASE,
      corpus: { ...BASE.corpus, sha256: "cd".repeat(32) },
    }],
    ["config, hostStreams", { ...BASE, config: { ...SEED_RUN, seed: 7 } }],
    // lr enters the arithmetic only as an input, but the graph's doc string
    // records its step config (AdamW settings included).
    ["config, graphSha256, hostStreams", {
      ...BASE,
      config: { ...SEED_RUN, adamw: { ...SEED_RUN.adamw, lr: 3e-4 } },
    }],
    // Precision changes the graph (no rounding) and the initial parameters.
    ["config, graphSha256, hostStreams", {
      ...BASE,
      config: { ...SEED_RUN, precision: "fp32" },
    }],
  ];
  for (const [changed, inputs] of variants) {
    const v = await runIdentity(inputs);
    assert.notEqual(v.key, base.key, changed);
    assert.equal(identityDiff(base.identity, v.identity).join(", "), changed);
  }
  // Key order in the config does not matter.
  const reordered = Object.fromEntries(
    Object.entries(SEED_RUN).reverse(),
  ) as unknown as TrainConfig;
  assert.equal(
    (await runIdentity({ ...BASE, config: reordered })).key,
    base.key,
  );
});

Deno.test("NaN and Infinity never reach a key: the config is rejected first", async () => {
  for (const lr of [NaN, Infinity, -Infinity]) {
    await assert.rejects(
      runIdentity({
        ...BASE,
        config: { ...SEED_RUN, adamw: { ...SEED_RUN.adamw, lr } },
      }),
      /adamw\.lr must be a finite number/,
    );
  }
});

Deno.test("renaming a constant in an engine file changes no key; changing its value does", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const script = `
    import { runIdentity } from "./src/hypothesis/run_key.ts";
    import { SEED_RUN } from "./src/step/config.ts";
    const r = await runIdentity({ config: SEED_RUN, steps: 300,
      corpus: { sha256: "ab", length: ${BROWN_BYTES} }, backend: "cpu",
      onnxruntime: "onnxruntime-node 1.30.0" });
    console.log(r.key);`;
  const keyIn = async (dir: string) => {
    await Deno.writeTextFile(`${dir}/key.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${dir}/key.ts`],
      cwd: dir,
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  };
  await withTempDir(async (dir) => {
    for (const entry of ["src", "deno.json"]) {
      await new Deno.Command("cp", { args: ["-r", `${root}${entry}`, dir] })
        .output();
    }
    await Deno.symlink(`${root}node_modules`, `${dir}/node_modules`);
    const original = await keyIn(dir);
    const layers = `${dir}/src/model/layers.ts`;
    const text = await Deno.readTextFile(layers);
    assert.ok(text.includes("SQRT_2_OVER_PI"));
    await Deno.writeTextFile(
      layers,
      "// a comment that was not there\n" +
        text.replaceAll("SQRT_2_OVER_PI", "ROOT_TWO_OVER_PI"),
    );
    assert.equal(await keyIn(dir), original, "a rename re-keyed the run");
    await Deno.writeTextFile(
      layers,
      text.replace("GELU_A = 0.044715", "GELU_A = 0.0447"),
    );
    assert.notEqual(
      await keyIn(dir),
      original,
      "an arithmetic change kept the key",
    );
  });
});

Deno.test("the cpu backend's thread count does not change the bits (so it is not in the key)", async () => {
  const h: Hypothesis = {
    id: "threads-check",
    title: "",
    question: "",
    background: "",
    design: "",
    config: JIGGLE,
    expectation: { verdict: "positive", reasoning: "" },
    smoke: { steps: 12, justification: "" },
  };
  const runs = [];
  for (const threads of [1, 2]) {
    runs.push(
      await runHypothesis(h, {
        tier: "smoke",
        backend: "cpu",
        threads,
        useCache: false,
        saveRecord: false,
        writeHistory: false,
      }),
    );
  }
  assert.deepEqual(runs[0].loss, runs[1].loss);
  assert.deepEqual(runs[0].gradNorm, runs[1].gradNorm);
  assert.equal(runs[0].final!.embeddingSha256, runs[1].final!.embeddingSha256);
  assert.equal(runs[0].key, runs[1].key);
});
