#!/bin/sh
# tools/gpu_bundle.sh: packs into .gpu/ (git-ignored) what tools/gpu_check.sh
# needs on a GPU machine that has no network and no node_modules:
#
#   .gpu/deno.xz               the deno binary (xz, x86 filter)
#   .gpu/node_modules.tar.xz   the rest of a minimal node_modules: deno's npm
#                              shim, onnxruntime-web's WebGPU files (the
#                              asyncify wasm its WebGPU build loads), what the
#                              bench and `deno task run` import (onnx-proto,
#                              protobufjs, onnxruntime-common), and a stub of
#                              onnxruntime-node without its 44 MB native
#                              library: importing works, a cpu session fails
#                              with a clear message, so the cpu side of the
#                              check is the committed cpu record
#   .gpu/debs/*.deb            the Vulkan loader and the GL/EGL loaders (glvnd),
#                              fetched with `apt-get download` (the NVIDIA
#                              Vulkan driver comes with the machine's driver)
#   .gpu/MANIFEST              versions and SHA-256 of each part
#
# The file list was found by tracing a full gpu_check run (strace of every
# file opened under node_modules) and is proven by running gpu_check in a copy
# of the checkout without node_modules and without network (README, section
# "WebGPU on a GPU machine"). Compressing the deno binary takes minutes; it is
# kept while node_modules/deno/deno is unchanged. Carry .gpu with the checkout
# (the device tool's `carry`); gpu_check unpacks it when node_modules is
# absent. Needs tar, xz, sha256sum, and apt-get (or .debs already in
# .gpu/debs).
#
#   sh tools/gpu_bundle.sh
set -eu
cd "$(dirname "$0")/.."
NM=node_modules
OUT=.gpu
[ -x "$NM/deno/deno" ] || {
  echo "gpu_bundle: no $NM/deno/deno: run sh tools/setup.sh first" >&2
  exit 1
}
mkdir -p "$OUT/debs"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT INT TERM

# --- node_modules, less the deno binary ----------------------------------------

FILES="deno/package.json deno/bin.cjs deno/LICENSE
onnxruntime-web/package.json onnxruntime-web/dist/ort.webgpu.bundle.min.mjs
onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.mjs
onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm
onnxruntime-web/dist/ort.node.min.mjs
onnxruntime-common onnx-proto long @protobufjs
protobufjs/package.json protobufjs/minimal.js protobufjs/src protobufjs/LICENSE
onnxruntime-node/package.json onnxruntime-node/dist/index.js
onnxruntime-node/dist/backend.js onnxruntime-node/dist/version.js"
for f in $FILES; do
  [ -e "$NM/$f" ] || {
    echo "gpu_bundle: $NM/$f is missing (another onnxruntime-web or deno version? update FILES)" >&2
    exit 1
  }
  mkdir -p "$STAGE/node_modules/$(dirname "$f")"
  cp -R "$NM/$f" "$STAGE/node_modules/$f"
done
mkdir -p "$STAGE/node_modules/.bin"
ln -s ../deno/bin.cjs "$STAGE/node_modules/.bin/deno"
cat >"$STAGE/node_modules/onnxruntime-node/dist/binding.js" <<'EOF'
"use strict";
// horizon's GPU bundle (tools/gpu_bundle.sh) leaves onnxruntime-node's native
// library behind: the package imports, a cpu session fails with this message.
Object.defineProperty(exports, "__esModule", { value: true });
const missing = () => {
  throw new Error(
    "onnxruntime-node's native library is not in the GPU bundle (tools/gpu_bundle.sh): the cpu backend cannot run here",
  );
};
exports.binding = {
  listSupportedBackends: () => [{ name: "cpu", bundled: true }],
  InferenceSession: missing,
};
exports.initOrt = missing;
EOF
DENO_VERSION=$("$NM/deno/deno" --version | head -n 1)
echo "$DENO_VERSION; onnxruntime-node stubbed (no native library)" >"$STAGE/node_modules/.horizon-gpu-bundle"
# Deterministic archive: sorted names, fixed times and owners.
tar -C "$STAGE" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  -cf - node_modules | xz -9e -T1 >"$OUT/node_modules.tar.xz.tmp"
mv "$OUT/node_modules.tar.xz.tmp" "$OUT/node_modules.tar.xz"

# --- the deno binary (minutes; kept while unchanged) ----------------------------

DENO_SHA=$(sha256sum "$NM/deno/deno" | cut -d' ' -f1)
if [ -e "$OUT/deno.xz" ] && grep -q "^deno-source $DENO_SHA\$" "$OUT/MANIFEST" 2>/dev/null; then
  echo "gpu_bundle: $OUT/deno.xz is current" >&2
else
  echo "gpu_bundle: compressing the deno binary (a few minutes)..." >&2
  xz -T1 --x86 --lzma2=preset=9e -c "$NM/deno/deno" >"$OUT/deno.xz.tmp"
  mv "$OUT/deno.xz.tmp" "$OUT/deno.xz"
fi

# --- Vulkan and GL/EGL loaders ----------------------------------------------------

DEBS="libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libgles2 libopengl0"
if command -v apt-get >/dev/null 2>&1; then
  # _apt cannot write to most folders: download into a temporary one it owns.
  DL=$(mktemp -d) && chmod 777 "$DL"
  (cd "$DL" && apt-get download $DEBS >/dev/null 2>"$STAGE/apt.log") || {
    (apt-get update >/dev/null 2>&1 && cd "$DL" && apt-get download $DEBS >/dev/null 2>"$STAGE/apt.log") ||
      { cat "$STAGE/apt.log" >&2; rm -rf "$DL"; exit 1; }
  }
  rm -f "$OUT"/debs/*.deb && mv "$DL"/*.deb "$OUT/debs/" && rm -rf "$DL"
fi
for p in $DEBS; do
  ls "$OUT/debs/${p}_"*.deb >/dev/null 2>&1 || {
    echo "gpu_bundle: no $p .deb in $OUT/debs (no apt-get here: copy it there)" >&2
    exit 1
  }
done

# --- manifest -----------------------------------------------------------------------

{
  echo "# tools/gpu_bundle.sh; unpacked by tools/gpu_check.sh"
  echo "$DENO_VERSION"
  echo "deno-source $DENO_SHA"
  (cd "$OUT" && sha256sum deno.xz node_modules.tar.xz debs/*.deb)
} >"$OUT/MANIFEST"
du -b "$OUT/deno.xz" "$OUT/node_modules.tar.xz" "$OUT/debs" | sed 's/^/gpu_bundle: /'
echo "gpu_bundle: $(du -sb "$OUT" | cut -f1) bytes in $OUT"
