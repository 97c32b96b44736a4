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
#      replicate counts given (default R = 1, 8, 64: replicates in one graph).
#   4. Agreement: one hypothesis's smoke tier (300 steps) on cpu and on
#      webgpu; the per-step losses must agree within float32 tolerance: the
#      first 10 steps within 1e-4 relative (the engines' kernels differ by a
#      few ulp), every step within 1e-2 (bf16 storage lets such differences
#      grow; wasm vs cpu on control-layernorm: 5.8e-5 at step 1, 3.5e-3 at
#      most over 300 steps).
#   5. One summary line, last: `gpu_check: PASS ...` or `gpu_check: FAIL ...`
#      (exit status 0 or 1). Everything else goes to $GPU_CHECK_OUT.
#
# Needs a checkout with node_modules (sh tools/setup.sh, or a copy of a set-up
# checkout: nothing here downloads anything except the optional apt step).
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
#   GPU_CHECK_VULKAN_DEBS=DIR        libvulkan1_*.deb files to unpack and use
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

set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
DENO="$ROOT/node_modules/.bin/deno"
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

[ -x "$DENO" ] || fail "no $DENO: run sh tools/setup.sh (or copy a set-up checkout with node_modules)"
mkdir -p "$OUT" || fail "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

# --- 1. Vulkan loader and ICD ------------------------------------------------

add_libs() { # add the library folders of an unpacked .deb tree
  for d in "$1"/usr/lib/*-linux-gnu "$1"/usr/lib "$1"/lib/*-linux-gnu; do
    [ -d "$d" ] && LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  export LD_LIBRARY_PATH
}

LOADER=""
has_loader() { # sets LOADER to the libvulkan.so.1 the dynamic linker finds first
  for d in $(echo "${LD_LIBRARY_PATH:-}" | tr ':' ' ') /usr/lib/*-linux-gnu /usr/lib64 \
    /usr/lib /lib/*-linux-gnu; do
    if [ -e "$d/libvulkan.so.1" ]; then LOADER="$d/libvulkan.so.1" && return 0; fi
  done
  LOADER=$(ldconfig -p 2>/dev/null | sed -n 's/.*libvulkan\.so\.1 .*=> //p' | head -n 1)
  [ -n "$LOADER" ]
}

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

note "bench (replicates $REPLICATES)..."
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
"$DENO" task bench --backends cpu,webgpu --no-torch --json --replicates "$REPLICATES" $BENCH_ARGS \
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
for b in cpu webgpu; do
  note "$HYP smoke on $b${STEPS:+ ($STEPS steps)}..."
  # shellcheck disable=SC2086 # the optional --steps pair
  "$DENO" task run "$HYP" --tier smoke --backend "$b" --out "$OUT/runs" --force \
    --checkpoint-every 0 ${STEPS:+--steps "$STEPS"} >"$OUT/run-$b.log" 2>&1 ||
    fail "deno task run $HYP --backend $b failed: $(tail -n 1 "$OUT/run-$b.log")"
done
AGREE=$("$DENO" eval --no-check '
const [dir, id] = Deno.args;
const [rtol, early] = [Number(Deno.args[2]), Number(Deno.args[3])];
const files = [...Deno.readDirSync(dir)].map((e) => e.name);
const load = (b) => {
  const n = files.find((f) => new RegExp(`-${b}(-[0-9]+steps)?\\.json$`).test(f));
  if (!n) { console.log(`no ${b} record in ${dir}`); Deno.exit(1); }
  return JSON.parse(Deno.readTextFileSync(`${dir}/${n}`));
};
const cpu = load("cpu"), gpu = load("webgpu");
if (cpu.loss.length !== gpu.loss.length || cpu.status !== gpu.status) {
  console.log(`cpu ran ${cpu.loss.length} steps (${cpu.status}), webgpu ${gpu.loss.length} (${gpu.status})`);
  Deno.exit(1);
}
const rel = cpu.loss.map((l, i) => Math.abs(l - gpu.loss[i]) / Math.max(Math.abs(l), 1e-30));
const worst = (xs) => xs.reduce((w, d, i) => (d > w[0] || Number.isNaN(d) ? [d, i + 1] : w), [0, 0]);
const [all, at] = worst(rel), [first] = worst(rel.slice(0, 10));
const cp = (r) => r.final ? `C=${r.final.C} P=${r.final.P}` : r.status;
console.log(`${id} ${rel.length} steps cpu vs webgpu: loss rel diff ${first.toExponential(1)} in the first 10 (tol ${early}), ` +
  `${all.toExponential(1)} max at step ${at} (tol ${rtol}); cpu ${cp(cpu)}, webgpu ${cp(gpu)}`);
Deno.exit(all <= rtol && first <= early ? 0 : 1);
' "$OUT/runs/$HYP" "$HYP" "$RTOL" "$RTOL_EARLY") || fail "$AGREE"

# --- 5. Summary ---------------------------------------------------------------

echo "gpu_check: PASS $ADAPTER ($KIND); $BENCH; $AGREE"
