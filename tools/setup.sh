#!/bin/sh
# Sets up horizon on a fresh Debian machine: Node.js/npm (if missing), the
# software Vulkan driver that lets WebGPU run without a GPU (lavapipe, for the
# webgpu backend's tests), then Deno, onnxruntime and the corpus from npm.
# Idempotent; safe to re-run.
set -eu
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=""
  command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
  dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || missing="$missing mesa-vulkan-drivers"
  if [ -n "$missing" ]; then
    echo "setup: apt-get install$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
elif ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm is missing; install Node.js (e.g. apt-get install nodejs npm)" >&2
  exit 1
fi

# --ignore-scripts: onnxruntime-node's postinstall would try to download CUDA
# binaries (no internet here, and not needed for the CPU backend).
# `npm install` (not `npm ci`): npm 11 leaves the other platforms' optional
# Deno binaries out of the lock file and `npm ci` then calls the lock out of
# sync. package.json pins every direct dependency exactly and the lock file
# pins the rest, so this installs the same versions.
npm install --ignore-scripts --no-audit --no-fund --loglevel=error
node_modules/.bin/deno --version | head -n 1
