import assert from "node:assert/strict";
import { listDir, withTempDir } from "../testing/helpers.ts";
import { ancestorChain } from "./lifeline.ts";

const LIFELINE = new URL("./lifeline.ts", import.meta.url).href;
const SAFETENSORS = new URL("../io/safetensors/mod.ts", import.meta.url).href;
/** The npm shim: a node script that spawnSyncs the real deno binary. */
const NPM_SHIM =
  new URL("../../node_modules/deno/bin.cjs", import.meta.url).pathname;
const LINUX = Deno.build.os === "linux";

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

/** Whether `pid` is a running process (not gone, not a zombie). */
function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitFor(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms = 10_000,
) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A trainer stand-in: takes the stop signal, holds a tracked temporary
 * file (a history being streamed), prints its pid, parent and ancestor
 * chain, and on abort writes the reason to `marker` and then exits (`exit`)
 * or keeps running (`linger`).
 */
async function trainerScript(dir: string): Promise<string> {
  const script = `${dir}/trainer.ts`;
  await Deno.writeTextFile(
    script,
    `
import { ancestorChain, stopSignal } from ${JSON.stringify(LIFELINE)};
import { createSafetensorsStreamWriter } from ${JSON.stringify(SAFETENSORS)};
const [out, marker, mode] = Deno.args;
const signal = stopSignal({ pollMs: 100 });
const w = await createSafetensorsStreamWriter(out + "/history.safetensors", {
  tensors: [{ name: "wte", dtype: "F32", shape: [4] }],
});
signal.addEventListener("abort", () => {
  Deno.writeTextFileSync(marker, String(signal.reason));
  if (mode === "exit") Deno.exit(0);
});
console.log(JSON.stringify({ pid: Deno.pid, ppid: Deno.ppid, chain: ancestorChain() }));
setInterval(() => {}, 1000); // "training"
`,
  );
  return script;
}

interface Info {
  pid: number;
  ppid: number;
  chain: { pid: number; comm: string }[];
}

async function start(cmd: string, args: string[]) {
  const child = new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdout = lines(child.stdout);
  const first = (await stdout.next()).value;
  const info: Info = JSON.parse(first ?? "null");
  const finish = async () => {
    if (info && running(info.pid)) Deno.kill(info.pid, "SIGKILL");
    try {
      child.kill("SIGKILL");
    } catch { /* already ended */ }
    for await (const _ of stdout);
    await child.stderr.cancel().catch(() => {});
    await child.status;
  };
  return { child, info, finish };
}

Deno.test("ancestorChain lists only deno/node processes, nearest first", () => {
  const chain = ancestorChain();
  if (!LINUX) return assert.deepEqual(chain, []);
  if (chain.length > 0) assert.equal(chain[0].pid, Deno.ppid);
  for (const a of chain) assert.match(a.comm, /^(deno|node|nodejs)$/);
});

Deno.test("kill -9 on the npm shim stops the deno process it started", {
  ignore: !LINUX,
}, async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out`;
    await Deno.mkdir(out);
    const marker = `${dir}/stopped`;
    const script = await trainerScript(dir);
    const { child, info, finish } = await start(NPM_SHIM, [
      "run",
      "-A",
      script,
      out,
      marker,
      "exit",
    ]);
    try {
      // The process tree a user sees: node (the shim) -> deno (the trainer).
      assert.equal(info.ppid, child.pid);
      assert.equal(info.chain[0].pid, child.pid);
      assert.equal(info.chain[0].comm, "node");
      assert.ok(running(info.pid));

      child.kill("SIGKILL");
      await child.status;
      await waitFor("the trainer to notice", async () => {
        try {
          await Deno.stat(marker);
          return true;
        } catch {
          return false;
        }
      }, 5_000);
      assert.equal(
        await Deno.readTextFile(marker),
        `parent process ${child.pid} (node) ended`,
      );
      await waitFor("the trainer to exit", () => !running(info.pid), 5_000);
      // Its history's temporary file went with it.
      assert.deepEqual(await listDir(out), []);
    } finally {
      await finish();
    }
  });
});

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(
    `the first ${signal} aborts, the second exits ${code} and cleans up`,
    {
      ignore: Deno.build.os === "windows",
    },
    async () => {
      await withTempDir(async (dir) => {
        const out = `${dir}/out`;
        await Deno.mkdir(out);
        const marker = `${dir}/stopped`;
        const script = await trainerScript(dir);
        const { child, finish } = await start(Deno.execPath(), [
          "run",
          "-A",
          script,
          out,
          marker,
          "linger",
        ]);
        try {
          assert.equal((await listDir(out)).length, 1); // the history's .tmp
          child.kill(signal);
          await waitFor("the abort", async () => {
            try {
              return (await Deno.readTextFile(marker)) === signal;
            } catch {
              return false;
            }
          });
          // Still running (a CLI would now wind down), file still there.
          assert.ok(running(child.pid));
          assert.equal((await listDir(out)).length, 1);
          child.kill(signal);
          assert.equal((await child.status).code, code);
          assert.deepEqual(await listDir(out), []);
        } finally {
          await finish();
        }
      });
    },
  );
}

Deno.test(
  "an aborted process that does not wind down is ended after forceExitMs",
  {
    ignore: Deno.build.os === "windows",
  },
  async () => {
    await withTempDir(async (dir) => {
      const script = `${dir}/stuck.ts`;
      await Deno.writeTextFile(
        script,
        `
import { stopSignal } from ${JSON.stringify(LIFELINE)};
stopSignal({ forceExitMs: 200 });
console.log(JSON.stringify({ pid: Deno.pid }));
setInterval(() => {}, 1000);
`,
      );
      const { child, finish } = await start(Deno.execPath(), [
        "run",
        "-A",
        script,
      ]);
      try {
        const t0 = Date.now();
        child.kill("SIGTERM");
        assert.equal((await child.status).code, 143);
        assert.ok(Date.now() - t0 >= 150, "waited for the grace period");
      } finally {
        await finish();
      }
    });
  },
);

Deno.test("a command stopped by SIGTERM exits 143 (README), by SIGINT 130", {
  ignore: Deno.build.os === "windows",
}, async () => {
  // `deno task run ...` stopped by SIGTERM after a step exited 130: the CLI
  // returned a fixed 130 for every stop.
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    const script = `
      import { stopSignal, stoppedExitCode } from "${LIFELINE}";
      const signal = stopSignal();
      Deno.kill(Deno.pid, "${signal}");
      while (!signal.aborted) await new Promise((r) => setTimeout(r, 10));
      Deno.exit(stoppedExitCode());
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, code, new TextDecoder().decode(out.stderr));
  }
});
