import assert from "node:assert/strict";
import { BackendError, type OrtTensor } from "./engine.ts";
import {
  hostMemory,
  openOrtSession,
  type OrtApi,
  type OrtInferenceSession,
} from "./ort_session.ts";

/** A host tensor as onnxruntime's CPU engines return them. */
function hostTensor(data: Float32Array): OrtTensor {
  return {
    data,
    size: data.length,
    location: "cpu",
    type: "float32",
  } as unknown as OrtTensor;
}

/** An onnxruntime stand-in whose graph doubles `x` into `y`. */
function fakeOrt(log: string[], fails = false): OrtApi {
  return {
    InferenceSession: {
      create(_model, options): Promise<OrtInferenceSession> {
        log.push(`create ${JSON.stringify(options)}`);
        if (fails) return Promise.reject(new Error("bad graph"));
        return Promise.resolve({
          run: (feeds) => {
            const x = feeds.x.data as Float32Array;
            return Promise.resolve({ y: hostTensor(x.map((v) => 2 * v)) });
          },
          release: () => {
            log.push("release");
            return Promise.resolve();
          },
        });
      },
    },
    Tensor: class {
      constructor(
        readonly type: string,
        readonly data: Float32Array,
        readonly dims: readonly number[],
      ) {}
      get size() {
        return this.data.length;
      }
      readonly location = "cpu";
    } as unknown as OrtApi["Tensor"],
  };
}

const spec = (ort: OrtApi) => ({
  backend: "cpu" as const,
  name: "fake-ort",
  description: "fake 1.0 CPU",
  ort,
  options: { executionProviders: ["cpu"] },
});

Deno.test("openOrtSession: runs, reads ranges through the log, releases", async () => {
  const log: string[] = [];
  const s = await openOrtSession(new Uint8Array(1), spec(fakeOrt(log)));
  assert.deepEqual(log, ['create {"executionProviders":["cpu"]}']);
  assert.equal(s.description, "fake 1.0 CPU");
  assert.equal(s.deviceResident, false);
  const out = await s.run({ x: s.tensor(Float32Array.from([1, 2, 3]), [3]) });
  assert.deepEqual(Array.from(await s.read(out.y) as Float32Array), [2, 4, 6]);
  assert.deepEqual(Array.from(await s.readRange(out.y, 1, 2)), [4, 6]);
  await assert.rejects(() => s.readRange(out.y, 2, 2), RangeError);
  await s.release();
  assert.deepEqual(log.at(-1), "release");
});

Deno.test("openOrtSession: a load failure names the package; a memory failure releases the session", async () => {
  await assert.rejects(
    () => openOrtSession(new Uint8Array(1), spec(fakeOrt([], true))),
    (e) =>
      e instanceof BackendError &&
      e.message === "fake-ort could not load the graph: bad graph",
  );
  const log: string[] = [];
  await assert.rejects(
    () =>
      openOrtSession(new Uint8Array(1), {
        ...spec(fakeOrt(log)),
        memory: () => Promise.reject(new Error("no device")),
      }),
    /no device/,
  );
  assert.equal(log.at(-1), "release");
});

Deno.test("hostMemory: a log keeps copies until read, and checks ranges", async () => {
  const a = Float32Array.from([1, 2, 3, 4]);
  const log = hostMemory.createLog(4);
  log.copy([
    { tensor: hostTensor(a), offset: 2, length: 2, at: 1 },
    { tensor: hostTensor(Float32Array.from([9])), offset: 0, length: 1, at: 0 },
  ]);
  a.fill(0); // the log holds copies
  assert.deepEqual(Array.from(await log.read(3)), [9, 3, 4]);
  assert.throws(
    () => log.copy([{ tensor: hostTensor(a), offset: 0, length: 2, at: 3 }]),
    RangeError,
  );
  assert.throws(
    () => log.copy([{ tensor: hostTensor(a), offset: 3, length: 2, at: 0 }]),
    RangeError,
  );
  const ints = { data: new Int32Array(2), size: 2, type: "int32" };
  assert.throws(
    () =>
      log.copy([{
        tensor: ints as unknown as OrtTensor,
        offset: 0,
        length: 1,
        at: 0,
      }]),
    TypeError,
  );
});
