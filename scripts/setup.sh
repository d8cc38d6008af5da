#!/usr/bin/env bash
# Installs the project on a bare Debian machine: npm packages (and the TypeScript build), then makes sure WebGPU
# has an adapter, installing Mesa lavapipe (Vulkan on the CPU) from bookworm-backports only when there is none.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

echo "== npm ci"
npm ci --no-audit --no-fund

echo "== WebGPU adapter"
if ! node bin/comi.js info; then
  echo "no adapter: installing the Vulkan CPU driver (Mesa lavapipe from bookworm-backports)"
  if [ "$(id -u)" = 0 ]; then bash scripts/install-vulkan-cpu.sh; else sudo bash scripts/install-vulkan-cpu.sh; fi
  node bin/comi.js info
fi
