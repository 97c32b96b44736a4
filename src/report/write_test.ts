import assert from "node:assert/strict";
import { join } from "node:path";
import { renderHypothesisReport, renderIndex } from "./markdown/mod.ts";
import { plotsForRun } from "./plots.ts";
import {
  checkReportTargets,
  reportFiles,
  ReportOverwriteError,
  writeIndex,
  writeReport,
  writeTextAtomic,
} from "./write.ts";
import {
  makeHypothesis,
  makeReplicate,
  makeRun,
  OUTCOMES,
} from "../testing/records.ts";
import { listDir, withTempDir } from "../testing/helpers.ts";

Deno.test("reportFiles() names the report and plots, refusing unsafe ids", () => {
  assert.deepEqual(reportFiles("11.2b-jiggling"), {
    markdown: "11.2b-jiggling.md",
    loss: "11.2b-jiggling-loss.svg",
    cp: "11.2b-jiggling-cp.svg",
    centroid: "11.2b-jiggling-centroid.svg",
    phase: "11.2b-jiggling-phase.svg",
    envelope: "11.2b-jiggling-envelope.svg",
  });
  for (const bad of ["", "../x", "a/b", ".hidden", "a b", "a\\b"]) {
    assert.throws(() => reportFiles(bad), RangeError, bad);
  }
});

Deno.test("writeReport() writes the report and its three plots, and nothing else", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "reports", "nested");
    const h = makeHypothesis();
    const runs = [makeRun()];
    const paths = await writeReport(dir, h, runs);
    assert.deepEqual(paths, [
      join(dir, "11.2b-jiggling.md"),
      join(dir, "11.2b-jiggling-loss.svg"),
      join(dir, "11.2b-jiggling-cp.svg"),
      join(dir, "11.2b-jiggling-centroid.svg"),
    ]);
    assert.deepEqual(await listDir(dir), [
      "11.2b-jiggling-centroid.svg",
      "11.2b-jiggling-cp.svg",
      "11.2b-jiggling-loss.svg",
      "11.2b-jiggling.md",
    ]);
    const md = await Deno.readTextFile(paths[0]);
    assert.equal(
      md,
      renderHypothesisReport(h, runs, {
        plots: {
          loss: "11.2b-jiggling-loss.svg",
          cp: "11.2b-jiggling-cp.svg",
          centroid: "11.2b-jiggling-centroid.svg",
        },
      }),
    );
    const plots = plotsForRun(h, runs);
    assert.equal(await Deno.readTextFile(paths[1]), plots.loss);
    assert.equal(await Deno.readTextFile(paths[2]), plots.cp);
    assert.equal(await Deno.readTextFile(paths[3]), plots.centroid);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(paths[0])).mode! & 0o777, 0o644);
    }
  });
});

Deno.test("writeReport() of a sweep with replicates adds the phase diagram and the envelope, and links them", async () => {
  await withTempDir(async (dir) => {
    const h = makeHypothesis({
      sweep: [{ path: "noise.scale", values: [1e-7, 3e-6] }],
      control: "control-layernorm",
    });
    const runs = [
      makeReplicate(42, { C: 2, P: 4 }),
      makeReplicate(1, { C: 3, P: 4 }),
      makeReplicate(42, { C: 1, P: 4 }, { overrides: ["noise.scale=1e-7"] }),
    ];
    const control = {
      hypothesis: makeHypothesis({ id: "control-layernorm" }),
      runs: [makeRun()],
    };
    const paths = await writeReport(dir, h, runs, {
      outcomes: OUTCOMES,
      control,
    });
    assert.deepEqual(paths.slice(4), [
      join(dir, "11.2b-jiggling-phase.svg"),
      join(dir, "11.2b-jiggling-envelope.svg"),
    ]);
    const plots = plotsForRun(h, runs);
    assert.equal(await Deno.readTextFile(paths[4]), plots.phase);
    assert.equal(await Deno.readTextFile(paths[5]), plots.envelope);
    const md = await Deno.readTextFile(paths[0]);
    assert.equal(
      md,
      renderHypothesisReport(h, runs, {
        plots: {
          loss: "11.2b-jiggling-loss.svg",
          cp: "11.2b-jiggling-cp.svg",
          centroid: "11.2b-jiggling-centroid.svg",
          phase: "11.2b-jiggling-phase.svg",
          envelope: "11.2b-jiggling-envelope.svg",
        },
        outcomes: OUTCOMES,
        control: { ...control, file: "control-layernorm.md" },
      }),
    );
    assert.ok(md.includes("](control-layernorm.md)"));
    // Rewritten from one run without a sweep: the stale plots go.
    await writeReport(dir, makeHypothesis(), [makeRun()]);
    assert.deepEqual(await listDir(dir), [
      "11.2b-jiggling-centroid.svg",
      "11.2b-jiggling-cp.svg",
      "11.2b-jiggling-loss.svg",
      "11.2b-jiggling.md",
    ]);
  });
});

Deno.test("writeReport() replaces an existing report in place", async () => {
  await withTempDir(async (dir) => {
    const h = makeHypothesis();
    await writeReport(dir, h, [makeRun()]);
    const [md] = await writeReport(dir, h, [makeRun({ verdict: "null" })]);
    assert.match(await Deno.readTextFile(md), /\*\*Observed: null\*\*/);
    assert.equal((await listDir(dir)).length, 4, "no temporary files left");
  });
});

Deno.test("writeReport() with an unsafe id writes nothing", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      () => writeReport(dir, makeHypothesis({ id: "../escape" }), [makeRun()]),
      RangeError,
    );
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("writeTextAtomic() leaves no temporary file when the rename fails", async () => {
  await withTempDir(async (dir) => {
    // A directory in the target's place makes the rename fail.
    const target = join(dir, "taken");
    await Deno.mkdir(join(target, "inside"), { recursive: true });
    await assert.rejects(() => writeTextAtomic(target, "x"));
    assert.deepEqual(await listDir(dir), ["taken"]);
  });
});

Deno.test("writeIndex() writes README.md with the rendered index and its plot of rates", async () => {
  await withTempDir(async (dir) => {
    const rows = [{
      hypothesis: makeHypothesis(),
      runs: [makeRun()],
      file: "11.2b-jiggling.md",
    }];
    const paths = await writeIndex(dir, rows);
    assert.deepEqual(paths, [join(dir, "README.md"), join(dir, "rates.svg")]);
    const index = await Deno.readTextFile(paths[0]);
    assert.equal(index, renderIndex(rows, { plot: "rates.svg" }));
    assert.ok(index.includes("![Rates over seeds](rates.svg)"));
    assert.deepEqual(await listDir(dir), ["README.md", "rates.svg"]);
    // Without a completed run there is no plot, and a stale one goes.
    assert.deepEqual(
      await writeIndex(dir, [{ ...rows[0], runs: [] }]),
      [join(dir, "README.md")],
    );
    assert.deepEqual(await listDir(dir), ["README.md"]);
  });
});

Deno.test("writeIndex() never replaces a README.md it did not write, and names it", async () => {
  await withTempDir(async (dir) => {
    const own = "# horizon\n\nThe project's own README.\n";
    await Deno.writeTextFile(join(dir, "README.md"), own);
    const rows = [{
      hypothesis: makeHypothesis(),
      runs: [makeRun()],
      file: "11.2b-jiggling.md",
    }];
    await assert.rejects(
      writeIndex(dir, rows),
      (e: unknown) =>
        e instanceof ReportOverwriteError &&
        e.message.includes(join(dir, "README.md")),
    );
    assert.equal(await Deno.readTextFile(join(dir, "README.md")), own);
    // An index it wrote is its own to rewrite.
    await Deno.remove(join(dir, "README.md"));
    await writeIndex(dir, rows);
    await writeIndex(dir, rows);
    assert.equal(
      await Deno.readTextFile(join(dir, "README.md")),
      renderIndex(rows, { plot: "rates.svg" }),
    );
    // Nor is a rates.svg of someone else's replaced.
    const svg = '<svg xmlns="http://www.w3.org/2000/svg">\n<title>Mine</title>';
    await Deno.writeTextFile(join(dir, "rates.svg"), svg);
    await assert.rejects(
      writeIndex(dir, rows),
      (e: unknown) =>
        e instanceof ReportOverwriteError &&
        e.message.includes(join(dir, "rates.svg")),
    );
    assert.equal(await Deno.readTextFile(join(dir, "rates.svg")), svg);
  });
});

Deno.test("writeReport() neither replaces nor removes a file it did not write", async () => {
  await withTempDir(async (dir) => {
    const h = makeHypothesis();
    const notes = "# 11.2b-jiggling notes of my own\n";
    const stranger = "<svg>a drawing of my own</svg>\n";
    // The report's name, a plot's name, and a plot it would remove as stale.
    for (
      const [name, text] of [
        ["11.2b-jiggling.md", notes],
        ["11.2b-jiggling-cp.svg", stranger],
        ["11.2b-jiggling-phase.svg", stranger],
      ]
    ) {
      await Deno.writeTextFile(join(dir, name), text);
      await assert.rejects(
        writeReport(dir, h, [makeRun()]),
        (e: unknown) =>
          e instanceof ReportOverwriteError && e.path === join(dir, name),
      );
      assert.deepEqual(await listDir(dir), [name]);
      assert.equal(await Deno.readTextFile(join(dir, name)), text);
      await Deno.remove(join(dir, name));
    }
    await Deno.mkdir(join(dir, "11.2b-jiggling-loss.svg"));
    await assert.rejects(
      checkReportTargets(dir, [h.id]),
      /11\.2b-jiggling-loss\.svg is not a file/,
    );
    await Deno.remove(join(dir, "11.2b-jiggling-loss.svg"));
    // What it wrote itself it rewrites, and removes when no longer drawn.
    const sweep = makeHypothesis({
      sweep: [{ path: "noise.scale", values: [1e-7, 3e-6] }],
    });
    await writeReport(dir, sweep, [
      makeReplicate(42, { C: 2, P: 4 }),
      makeReplicate(1, { C: 3, P: 4 }),
    ]);
    assert.ok((await listDir(dir)).includes("11.2b-jiggling-phase.svg"));
    await checkReportTargets(dir, [h.id]);
    await writeReport(dir, h, [makeRun()]);
    assert.ok(!(await listDir(dir)).includes("11.2b-jiggling-phase.svg"));
  });
});
