#!/bin/sh
# tools/gpu_check.sh: does horizon's WebGPU backend run on this Linux machine's
# NVIDIA GPU, how fast, and does it train like the cpu backend?
#
#   1. Vulkan loader: Deno's WebGPU (wgpu) needs libvulkan.so.1; the NVIDIA
#      ICD (nvidia_icd.json) comes with the driver. Installs libvulkan1 with
#      apt when it is missing and apt works (optional: the machine may have
#      no network), or uses loader .debs you copied over, unpacked here or
#      beforehand (no root needed).
#   2. Adapter: navigator.gpu.requestAdapter() must find a hardware adapter
#      (adapter.info, isFallbackAdapter, not a software rasteriser).
#   3. Bench: `deno task bench --backends cpu,webgpu --json` with the
#      replicate counts given (default R = 1, 8, 64: replicates in one graph);
#      webgpu alone where the cpu backend cannot run (the GPU bundle).
#   4. Agreement: one hypothesis's smoke tier (300 steps) on cpu and on
#      webgpu (or the committed cpu record reports/data/<id>/smoke-seed<seed>-
#      cpu.json in its place, its first steps when fewer are run); the
#      per-step losses must agree within float32 tolerance: the
#      first 10 steps within 1e-4 relative (the engines' kernels differ by a
#      few ulp), every step within 1e-2 (bf16 storage lets such differences
#      grow; wasm vs cpu on control-layernorm: 5.8e-5 at step 1, 3.5e-3 at
#      most over 300 steps).
#   5. One summary line, last: `gpu_check: PASS ...` or `gpu_check: FAIL ...`
#      (exit status 0 or 1). Everything else goes to $GPU_CHECK_OUT.
#
# Needs a checkout with node_modules (sh tools/setup.sh, or a copy of a set-up
# checkout: nothing here downloads anything except the optional apt step), or,
# where node_modules is absent (a GPU machine without network), the bundle
# that tools/gpu_bundle.sh wrote into .gpu/: it is unpacked into node_modules
# (the deno binary, onnxruntime-web's WebGPU files, a stub of
# onnxruntime-node: no cpu backend, so the committed cpu record stands in),
# and its Vulkan/GL loader .debs are used when the machine has no
# libvulkan.so.1 or libGLdispatch.so.0. Neither node nor root is needed.
#
# Settings (environment):
#   GPU_CHECK_OUT=.cache/gpu_check   logs, bench JSON and run records
#   GPU_CHECK_REPLICATES=1,8,64      R values for the bench (default)
#   GPU_CHECK_HYPOTHESIS=control-layernorm
#   GPU_CHECK_STEPS=                 steps of the comparison (default: smoke, 300)
#   GPU_CHECK_LOSS_RTOL=1e-2         largest relative loss difference, any step
#   GPU_CHECK_LOSS_RTOL_EARLY=1e-4   the same for the first 10 steps
#   GPU_CHECK_BENCH_ARGS=            more bench flags, e.g. "--steps 100"
#   GPU_CHECK_APT=auto               auto: apt-get libvulkan1 if missing; 0: never
#   GPU_CHECK_BUNDLE=.gpu            the bundle to unpack when node_modules is absent
#   GPU_CHECK_CPU=auto               run: the cpu side is a cpu run; committed:
#                                    the committed cpu record; auto: committed
#                                    when node_modules is the bundle's, else run
#   GPU_CHECK_VULKAN_DEBS=DIR        libvulkan1_*.deb files to unpack and use
#                                    (default where libvulkan.so.1 or
#                                    libGLdispatch.so.0 is missing: the
#                                    bundle's .gpu/debs)
#   GPU_CHECK_VULKAN_DIR=DIR         where such .debs were already unpacked
#                                    (dpkg-deb -x libvulkan1_*.deb DIR)
#   GPU_CHECK_ALLOW_FALLBACK=1       accept a software adapter (testing the
#                                    script on lavapipe; use few steps)
#   GPU_CHECK_ADAPTER_ONLY=1         stop after the adapter check
#   VK_DRIVER_FILES=...json          the ICD to use (else searched for)
#
# Examples:
#   sh tools/gpu_check.sh
#   GPU_CHECK_REPLICATES=1,8,64 sh tools/gpu_check.sh
#   GPU_CHECK_ALLOW_FALLBACK=1 GPU_CHECK_STEPS=4 \
#     GPU_CHECK_BENCH_ARGS="--steps 2 --warmup 2" sh tools/gpu_check.sh
#   sh tools/gpu_bundle.sh   # here, once: then carry .gpu with the checkout

set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUNDLE=${GPU_CHECK_BUNDLE:-.gpu}
OUT=${GPU_CHECK_OUT:-.cache/gpu_check}
REPLICATES=${GPU_CHECK_REPLICATES:-1,8,64}
HYP=${GPU_CHECK_HYPOTHESIS:-control-layernorm}
STEPS=${GPU_CHECK_STEPS:-}
RTOL=${GPU_CHECK_LOSS_RTOL:-1e-2}
RTOL_EARLY=${GPU_CHECK_LOSS_RTOL_EARLY:-1e-4}
BENCH_ARGS=${GPU_CHECK_BENCH_ARGS:-}
APT=${GPU_CHECK_APT:-auto}
ALLOW_FALLBACK=${GPU_CHECK_ALLOW_FALLBACK:-0}

fail() {
  echo "gpu_check: FAIL $*"
  exit 1
}
note() { echo "gpu_check: $*" >&2; }

# --- 0. node_modules, from the bundle where absent ------------------------------

unxz() { # unxz FILE: FILE decompressed to stdout (xz, else Python's lzma)
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}
if [ ! -e node_modules ] && [ -e "$BUNDLE/node_modules.tar.xz" ]; then
  note "no node_modules: unpacking $BUNDLE (tools/gpu_bundle.sh)"
  (cd "$BUNDLE" && grep -E '^[0-9a-f]{64}  ' MANIFEST | sha256sum -c --quiet) ||
    fail "$BUNDLE does not match its MANIFEST (incomplete copy?): rebuild it with sh tools/gpu_bundle.sh"
  rm -rf node_modules.partial && mkdir node_modules.partial &&
    unxz "$BUNDLE/node_modules.tar.xz" | tar -xf - -C node_modules.partial --strip-components=1 &&
    unxz "$BUNDLE/deno.xz" >node_modules.partial/deno/deno &&
    chmod +x node_modules.partial/deno/deno &&
    mv node_modules.partial node_modules || fail "cannot unpack $BUNDLE into node_modules"
fi
# The native binary: node_modules/.bin/deno is a node script (deno task runs
# it without node; a shell does not).
DENO="$ROOT/node_modules/deno/deno"
[ -x "$DENO" ] || DENO="$ROOT/node_modules/.bin/deno"
[ -x "$DENO" ] || fail "no $DENO: run sh tools/setup.sh (or copy a set-up checkout with node_modules, or carry the bundle of tools/gpu_bundle.sh)"
CPU=${GPU_CHECK_CPU:-auto}
if [ "$CPU" = auto ]; then
  CPU=run
  [ -e node_modules/.horizon-gpu-bundle ] && CPU=committed
fi
case $CPU in run | committed) ;; *) fail "GPU_CHECK_CPU must be auto, run or committed (got \"$CPU\")" ;; esac
mkdir -p "$OUT" || fail "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

# --- 1. Vulkan loader and ICD ------------------------------------------------

add_libs() { # add the library folders of an unpacked .deb tree
  for d in "$1"/usr/lib/*-linux-gnu "$1"/usr/lib "$1"/lib/*-linux-gnu; do
    [ -d "$d" ] && LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  export LD_LIBRARY_PATH
}

find_lib() { # prints where the dynamic linker finds library $1 (a regular file)
  for d in $(echo "${LD_LIBRARY_PATH:-}" | tr ':' ' ') /usr/lib/*-linux-gnu /usr/lib64 \
    /usr/lib /lib/*-linux-gnu; do
    if [ -f "$d/$1" ]; then echo "$d/$1" && return 0; fi
  done
  f=$(ldconfig -p 2>/dev/null | sed -n "s/.*[[:space:]]$1 .*=> //p" | head -n 1)
  [ -n "$f" ] && [ -f "$f" ] && echo "$f"
}
LOADER=""
has_loader() { # sets LOADER to the libvulkan.so.1 the dynamic linker finds first
  LOADER=$(find_lib libvulkan.so.1)
}

# The bundle's loaders where the machine lacks the Vulkan loader or glvnd's
# dispatch library (NVIDIA's Vulkan driver, libGLX_nvidia, needs it).
if [ -z "${GPU_CHECK_VULKAN_DIR:-}${GPU_CHECK_VULKAN_DEBS:-}" ] && [ -d "$BUNDLE/debs" ] &&
  { ! has_loader || [ -z "$(find_lib libGLdispatch.so.0)" ]; }; then
  GPU_CHECK_VULKAN_DEBS=$BUNDLE/debs
  note "no Vulkan or glvnd loader here: using the bundle's ($BUNDLE/debs)"
fi
if [ -n "${GPU_CHECK_VULKAN_DIR:-}" ]; then
  add_libs "$GPU_CHECK_VULKAN_DIR"
elif [ -n "${GPU_CHECK_VULKAN_DEBS:-}" ]; then
  DEBS=$(cd "$GPU_CHECK_VULKAN_DEBS" && pwd) || fail "no folder GPU_CHECK_VULKAN_DEBS=$GPU_CHECK_VULKAN_DEBS"
  rm -rf "$OUT/vulkan" && mkdir -p "$OUT/vulkan"
  for deb in "$DEBS"/*.deb; do
    [ -e "$deb" ] || fail "no .deb files in GPU_CHECK_VULKAN_DEBS=$GPU_CHECK_VULKAN_DEBS"
    if command -v dpkg-deb >/dev/null 2>&1; then
      dpkg-deb -x "$deb" "$OUT/vulkan" || fail "cannot unpack $deb"
    else # a .deb is an ar archive holding data.tar.*
      (cd "$OUT/vulkan" && ar x "$deb" && tar xf data.tar.* && rm -f data.tar.* control.tar.* debian-binary) ||
        fail "cannot unpack $deb (no dpkg-deb; ar/tar failed)"
    fi
  done
  add_libs "$OUT/vulkan"
fi
if ! has_loader && [ "$APT" != 0 ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  note "installing libvulkan1 with apt-get (GPU_CHECK_APT=0 to skip)"
  { $SUDO apt-get install -y --no-install-recommends libvulkan1 ||
    { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends libvulkan1; }; } \
    >"$OUT/apt.log" 2>&1 || note "apt-get failed (see $OUT/apt.log); no network?"
fi
has_loader || fail "no Vulkan loader (libvulkan.so.1): apt-get install libvulkan1, or copy libvulkan1_*.deb here and set GPU_CHECK_VULKAN_DEBS=DIR"

ICD=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-}}
if [ -z "$ICD" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json \
    /usr/local/share/vulkan/icd.d/nvidia_icd*.json; do
    if [ -e "$f" ]; then ICD=$f; break; fi
  done
fi
if [ -z "$ICD" ] && [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  # Where some container runtimes mount the driver: not a loader default.
  ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export VK_DRIVER_FILES="$ICD" VK_ICD_FILENAMES="$ICD"
fi
if [ -z "$ICD" ]; then
  note "no nvidia_icd.json found (in containers NVIDIA_DRIVER_CAPABILITIES must include graphics); trying the loader's defaults"
fi
export DENO_WEBGPU_BACKEND=${DENO_WEBGPU_BACKEND:-vulkan}
[ -n "${XDG_RUNTIME_DIR:-}" ] || export XDG_RUNTIME_DIR="$OUT"
command -v nvidia-smi >/dev/null 2>&1 &&
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$OUT/nvidia-smi.txt" 2>&1

# --- 2. Adapter ---------------------------------------------------------------

# Prints shell assignments: FOUND, SOFTWARE, FALLBACK, ADAPTER, DETAIL.
"$DENO" eval --no-check '
const q = (s) => "\x27" + String(s ?? "").replaceAll("\x27", "\x27\\\x27\x27") + "\x27";
const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
if (!adapter) { console.log("FOUND=0"); Deno.exit(0); }
const i = adapter.info;
const { probeAdapter } = await import("./src/runtime/webgpu_probe.ts");
const p = await probeAdapter();
const info = { vendor: i.vendor, architecture: i.architecture, device: i.device,
  description: i.description, isFallbackAdapter: i.isFallbackAdapter ?? null,
  softwareByName: p?.software ?? null };
Deno.writeTextFileSync(Deno.args[0], JSON.stringify(info, null, 2) + "\n");
console.log(`FOUND=1 SOFTWARE=${p?.software ? 1 : 0} FALLBACK=${i.isFallbackAdapter ? 1 : 0}`);
console.log(`ADAPTER=${q(i.description || i.device || "unknown adapter")}`);
console.log(`DETAIL=${q(`vendor ${i.vendor || "?"}, architecture ${i.architecture || "?"}, device ${i.device || "?"}, isFallbackAdapter ${i.isFallbackAdapter}`)}`);
' "$OUT/adapter.json" >"$OUT/adapter.sh" 2>"$OUT/adapter.log" ||
  fail "the adapter probe failed: $(tail -n 1 "$OUT/adapter.log")"
FOUND=0 SOFTWARE=0 FALLBACK=0 ADAPTER="" DETAIL=""
. "$OUT/adapter.sh"
[ "$FOUND" = 1 ] || fail "no WebGPU adapter (loader found; ICD: ${ICD:-none found}); see $OUT/adapter.log"
KIND="hardware adapter"
if [ "$SOFTWARE" = 1 ] || [ "$FALLBACK" = 1 ]; then
  KIND="software adapter"
  [ "$ALLOW_FALLBACK" = 1 ] ||
    fail "only a software adapter: $ADAPTER ($DETAIL; ICD: ${ICD:-none found}); GPU_CHECK_ALLOW_FALLBACK=1 accepts it"
fi
note "adapter: $ADAPTER ($KIND; $DETAIL; loader $LOADER; ICD: ${ICD:-loader default})"
if [ "${GPU_CHECK_ADAPTER_ONLY:-0}" = 1 ]; then
  echo "gpu_check: PASS $ADAPTER ($KIND; $DETAIL); adapter only"
  exit 0
fi

# --- 3. Bench -----------------------------------------------------------------

BACKENDS=cpu,webgpu
[ "$CPU" = run ] || BACKENDS=webgpu
note "bench ($BACKENDS, replicates $REPLICATES)..."
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
"$DENO" task bench --backends "$BACKENDS" --no-torch --json --replicates "$REPLICATES" $BENCH_ARGS \
  >"$OUT/bench.json" 2>"$OUT/bench.log" || fail "bench failed: $(tail -n 1 "$OUT/bench.log")"
BENCH=$("$DENO" eval --no-check '
const b = JSON.parse(Deno.readTextFileSync(Deno.args[0]));
const g = b.backends.webgpu, c = b.backends.cpu;
if (!g) { console.log(`webgpu missing from the bench (${b.skipped.join("; ")})`); Deno.exit(1); }
const f = (x, d = 1) => Number(x).toFixed(d);
const rs = Object.entries(g.replicates).map(([r, v]) => `R=${r} ${f(v.replicateStepsPerSecond)} steps/s`);
console.log(`webgpu ${f(g.msPerStep, 2)} ms/step` + (c ? ` (cpu ${f(c.msPerStep, 2)})` : "") +
  `, ${rs.join(", ")}${b.skipped.length ? ` [skipped: ${b.skipped.join("; ")}]` : ""}` +
  `, ${f(g.dispatchesPerStep, 0)} dispatches, ${f(g.syncsPerStep, 3)} syncs, ` +
  `${f(g.bytesUpPerStep / 1e3)} kB up, ${f(g.bytesDownPerStep / 1e3)} kB down, ` +
  `GPU memory growth ${f(g.gpuMemoryGrowthBytesPerStep, 0)} B/step`);
' "$OUT/bench.json") || fail "$BENCH"

# --- 4. cpu vs webgpu on one hypothesis ---------------------------------------

rm -rf "$OUT/runs"
for b in $(echo "$BACKENDS" | tr ',' ' '); do
  note "$HYP smoke on $b${STEPS:+ ($STEPS steps)}..."
  # shellcheck disable=SC2086 # the optional --steps pair
  "$DENO" task run "$HYP" --tier smoke --backend "$b" --out "$OUT/runs" --force \
    --checkpoint-every 0 ${STEPS:+--steps "$STEPS"} >"$OUT/run-$b.log" 2>&1 ||
    fail "deno task run $HYP --backend $b failed: $(tail -n 1 "$OUT/run-$b.log")"
done
AGREE=$("$DENO" eval --no-check '
const [dir, id, mode] = Deno.args;
const [rtol, early] = [Number(Deno.args[3]), Number(Deno.args[4])];
const { readRecord } = await import("./src/history/records.ts");
const files = [...Deno.readDirSync(dir)].map((e) => e.name);
const load = async (b) => {
  const n = files.find((f) => new RegExp(`-${b}(-[0-9]+steps)?\\.json$`).test(f));
  if (!n) { console.log(`no ${b} record in ${dir}`); Deno.exit(1); }
  return await readRecord(`${dir}/${n}`);
};
const gpu = await load("webgpu");
let cpu, from = "cpu";
if (mode === "committed") {
  // The committed smoke record: a shortened run is its first steps.
  const path = `reports/data/${id}/smoke-seed${gpu.seed}-cpu.json`;
  cpu = await readRecord(path);
  if (!cpu || cpu.loss.length < gpu.loss.length) {
    console.log(`${path}: ${cpu ? `${cpu.loss.length} steps, fewer than webgpu ran` : "missing"}`);
    Deno.exit(1);
  }
  from = `cpu (${path})`;
  if (cpu.loss.length > gpu.loss.length) {
    cpu = { ...cpu, loss: cpu.loss.slice(0, gpu.loss.length), status: gpu.status, final: null };
  }
} else {
  cpu = await load("cpu");
}
if (cpu.loss.length !== gpu.loss.length || cpu.status !== gpu.status) {
  console.log(`cpu ran ${cpu.loss.length} steps (${cpu.status}), webgpu ${gpu.loss.length} (${gpu.status})`);
  Deno.exit(1);
}
const rel = cpu.loss.map((l, i) => Math.abs(l - gpu.loss[i]) / Math.max(Math.abs(l), 1e-30));
const worst = (xs) => xs.reduce((w, d, i) => (d > w[0] || Number.isNaN(d) ? [d, i + 1] : w), [0, 0]);
const [all, at] = worst(rel), [first] = worst(rel.slice(0, 10));
const cp = (r) => r.final ? `C=${r.final.C} P=${r.final.P}` : r.status;
console.log(`${id} ${rel.length} steps ${from} vs webgpu: loss rel diff ${first.toExponential(1)} in the first 10 (tol ${early}), ` +
  `${all.toExponential(1)} max at step ${at} (tol ${rtol})` +
  (cpu.final ? `; cpu ${cp(cpu)}, webgpu ${cp(gpu)}` : `; webgpu ${cp(gpu)}`));
Deno.exit(all <= rtol && first <= early ? 0 : 1);
' "$OUT/runs/$HYP" "$HYP" "$CPU" "$RTOL" "$RTOL_EARLY") || fail "$AGREE"

# --- 5. Summary ---------------------------------------------------------------

echo "gpu_check: PASS $ADAPTER ($KIND); $BENCH; $AGREE"
