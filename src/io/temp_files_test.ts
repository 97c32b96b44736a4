import assert from "node:assert/strict";
import { listDir, withTempDir } from "../testing/helpers.ts";
import { writeTextAtomic } from "./atomic.ts";
import { createSafetensorsStreamWriter } from "./safetensors/mod.ts";
import {
  removeTrackedTemps,
  sweepStaleTemps,
  tempPathFor,
  trackedTemps,
  trackTemp,
  untrackTemp,
} from "./temp_files.ts";

const TEMP_FILES = new URL("./temp_files.ts", import.meta.url).href;
const SAFETENSORS = new URL("./safetensors/mod.ts", import.meta.url).href;
const ATOMIC = new URL("./atomic.ts", import.meta.url).href;

Deno.test("tempPathFor: same directory, hidden, PID in the name", () => {
  const p = tempPathFor("out/dir/run.json");
  assert.match(
    p,
    new RegExp(`^out/dir/\\.run\\.json\\.${Deno.pid}\\.[0-9a-f]{8}\\.tmp$`),
  );
  assert.match(
    tempPathFor("x.bin"),
    new RegExp(`^\\.x\\.bin\\.${Deno.pid}\\.`),
  );
  assert.notEqual(tempPathFor("a"), tempPathFor("a"));
});

Deno.test("writers track their temporary file only while writing", async () => {
  await withTempDir(async (dir) => {
    assert.deepEqual(trackedTemps(), []);
    const writing = writeTextAtomic(`${dir}/a.json`, "{}\n");
    const during = trackedTemps();
    assert.equal(during.length, 1);
    assert.match(
      during[0],
      new RegExp(`/\\.a\\.json\\.${Deno.pid}\\.[0-9a-f]{8}\\.tmp$`),
    );
    await writing;
    assert.deepEqual(trackedTemps(), []);

    const w = await createSafetensorsStreamWriter(`${dir}/h.safetensors`, {
      tensors: [{ name: "x", dtype: "F32", shape: [2] }],
    });
    const [tmp] = trackedTemps();
    assert.match(tmp, /\/\.h\.safetensors\.\d+\.[0-9a-f]{8}\.tmp$/);
    assert.ok((await Deno.stat(tmp)).isFile);
    await w.append("x", new Float32Array([1, 2]));
    await w.close();
    assert.deepEqual(trackedTemps(), []);
    assert.deepEqual(await listDir(dir), ["a.json", "h.safetensors"]);

    const aborted = await createSafetensorsStreamWriter(
      `${dir}/g.safetensors`,
      {
        tensors: [{ name: "x", dtype: "F32", shape: [2] }],
      },
    );
    await aborted.abort();
    assert.deepEqual(trackedTemps(), []);
    assert.deepEqual(await listDir(dir), ["a.json", "h.safetensors"]);
  });
});

Deno.test("removeTrackedTemps removes and forgets every tracked file", async () => {
  await withTempDir(async (dir) => {
    const a = tempPathFor(`${dir}/a`), b = tempPathFor(`${dir}/b`);
    const c = tempPathFor(`${dir}/c`);
    for (const p of [a, b]) {
      trackTemp(p);
      await Deno.writeTextFile(p, "x");
    }
    trackTemp(c); // never created
    await Deno.writeTextFile(`${dir}/keep`, "x");
    assert.deepEqual(removeTrackedTemps(), [a, b]);
    assert.deepEqual(trackedTemps(), []);
    assert.deepEqual(await listDir(dir), ["keep"]);
    trackTemp(a);
    untrackTemp(a);
    assert.deepEqual(trackedTemps(), []);
  });
});

/** A process id that is not running (a child that has ended and been reaped). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("sweepStaleTemps removes what ended processes left and keeps live ones", async () => {
  await withTempDir(async (dir) => {
    const dead = await deadPid();
    const old = new Date(Date.now() - 48 * 3600 * 1000);
    const files = {
      dead: `.run.json.${dead}.0badc0de.tmp`,
      mine: `.run.json.${Deno.pid}.0badc0de.tmp`,
      init: `.seed-1.json.1.0badc0de.tmp`, // PID 1 is always running
      oldFormatOld: ".history.safetensors.1a2b3c4d.tmp",
      oldFormatNew: ".history.safetensors.5e6f7a8b.tmp",
      deadButOld: `.x.${dead}.12345678.tmp`,
      notTmp: `run.json`,
    };
    for (const name of Object.values(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, "x");
    }
    await Deno.utime(`${dir}/${files.oldFormatOld}`, old, old);
    await Deno.utime(`${dir}/${files.deadButOld}`, old, old);
    await Deno.mkdir(`${dir}/.dir.${dead}.0badc0de.tmp`);
    const removed = await sweepStaleTemps(dir);
    if (Deno.build.os === "linux") {
      assert.deepEqual(
        removed,
        [
          files.oldFormatOld,
          files.dead,
          files.deadButOld,
        ].sort(),
      );
      assert.deepEqual(
        await listDir(dir),
        [
          `.dir.${dead}.0badc0de.tmp`,
          files.init,
          files.mine,
          files.oldFormatNew,
          files.notTmp,
        ].sort(),
      );
    } else {
      // Without /proc only age tells.
      assert.deepEqual(removed, [files.oldFormatOld, files.deadButOld].sort());
    }
    // A shorter age limit sweeps unknown files sooner; a missing dir is fine.
    assert.deepEqual(await sweepStaleTemps(dir, { maxAgeMs: -1 }), [
      files.oldFormatNew,
    ]);
    assert.deepEqual(await sweepStaleTemps(`${dir}/missing`), []);
  });
});

/** Lines of a child's stdout, as they come. */
async function* lines(stream: ReadableStream<Uint8Array>) {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

/**
 * Starts a script that installs the cleanup, opens a history stream writer
 * and an atomic write's worth of tracked temporary file in `dir`, says
 * "ready" and waits; `end` decides how it ends.
 */
async function writerScript(dir: string, end: string): Promise<string> {
  const script = `${dir}/writer.ts`;
  await Deno.writeTextFile(
    script,
    `
import { installTempCleanup, tempPathFor, trackTemp } from ${
      JSON.stringify(TEMP_FILES)
    };
import { createSafetensorsStreamWriter } from ${JSON.stringify(SAFETENSORS)};
import { writeTextAtomic } from ${JSON.stringify(ATOMIC)};
installTempCleanup();
const out = Deno.args[0];
const w = await createSafetensorsStreamWriter(out + "/history.safetensors", {
  tensors: [{ name: "wte", dtype: "F32", shape: [1024, 1024] }],
});
await w.append("wte", new Float32Array(512 * 1024)); // half of it
const tmp = tempPathFor(out + "/run.json"); // as writeTextAtomic does
trackTemp(tmp);
await Deno.writeTextFile(tmp, "{");
await writeTextAtomic(out + "/done.json", "{}");
console.log("ready");
${end}
`,
  );
  return script;
}

async function runUntilReady(script: string, out: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, out],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = lines(child.stdout);
  const first = await stdout.next();
  const tmps = (await listDir(out)).filter((n) => n.endsWith(".tmp"));
  return { child, first: first.value, tmps, stdout };
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`a CLI killed by ${signal} mid-write leaves no temporary file`, {
    ignore: Deno.build.os === "windows",
  }, async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/out`;
      await Deno.mkdir(out);
      const script = await writerScript(dir, "setInterval(() => {}, 1000);");
      const { child, first, tmps, stdout } = await runUntilReady(script, out);
      try {
        assert.equal(first, "ready");
        assert.equal(tmps.length, 2, `both temporary files exist: ${tmps}`);
        child.kill(signal);
        const status = await child.status;
        assert.equal(status.code, code);
        assert.deepEqual(await listDir(out), ["done.json"]);
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* already ended */ }
        for await (const _ of stdout);
        await child.stderr.cancel();
      }
    });
  });
}

Deno.test("a CLI ending through Deno.exit with a write in progress leaves no temporary file", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out`;
    await Deno.mkdir(out);
    const script = await writerScript(dir, "Deno.exit(3);");
    const { child, first, stdout } = await runUntilReady(script, out);
    assert.equal(first, "ready");
    for await (const _ of stdout);
    await child.stderr.cancel();
    assert.equal((await child.status).code, 3);
    assert.deepEqual(await listDir(out), ["done.json"]);
  });
});
