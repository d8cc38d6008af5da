#!/usr/bin/env bash
# The GPU check of the engine in one run (issue 12): build, the oracle suites (every conv strategy, both reductions,
# Adam groups), the training step at 64²/16, 128²/32, 256²/64 beside PyTorch (bench/torch_step.py, its defaults),
# the correction benchmark (f32 and, where the adapter has shader-f16, f16 maps); results in bench/results/ (and in
# $OUT when set). Stops at the first failure.
#
#   bash bench/device.sh prepare        here (no GPU needed): packs Node, the npm modules the run needs and the Vulkan
#                                       loader into .device/ (ignored by git; ~50 MB) for the device machine
#   bash bench/device.sh run [--quick]  there, from the repository root, with .device carried; --quick shrinks every
#                                       size and suite (a smoke test of this script on lavapipe; no PyTorch needed)
#
# The device machine has no Node.js, no npm registry and no Vulkan loader (docs/performance.md): the run unpacks what
# `prepare` packed. Budget: < 8 minutes on an H100/H200 (build ~15 s, oracles ~1 min, steps ~2 min, PyTorch ~1 min,
# correction ~1 min); each stage has its own time limit (600 s together) so one that hangs fails the run instead of
# eating the lease, and a run over 8 minutes fails at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUNDLE=$ROOT/.device

die() { echo "device.sh: $*" >&2; exit 1; }
stage() { echo; echo "== $(date -u +%H:%M:%S) $*"; }

prepare() {
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> "$(git rev-parse --git-common-dir)/info/exclude"
  rm -rf "$BUNDLE" && mkdir -p "$BUNDLE"
  stage "Node $(node --version)"
  xz -T0 -7 -c "$(readlink -f "$(command -v node)")" > "$BUNDLE/node.xz"
  stage "npm modules (without onnxruntime, TensorFlow.js and other platforms' Dawn builds: the run needs none)"
  [ -e node_modules/webgpu ] || die "no node_modules: run npm ci first"
  tar -c -C node_modules/ --dereference --exclude=./onnxruntime-node --exclude=./@tensorflow --exclude=./.cache \
    --exclude='./webgpu/dist/darwin-*' --exclude='./webgpu/dist/win32-*' --exclude=./webgpu/dist/linux-arm64 . \
    | xz -T0 -7 > "$BUNDLE/modules.tar.xz"
  stage "Vulkan loader and EGL (the device's image has none)"
  mkdir -p "$BUNDLE/gl" /tmp/amd64/partial
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq && (cd "$BUNDLE/gl" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null) \
    || die "apt-get could not fetch the Vulkan loader"
  du -sh "$BUNDLE"/*
  local total
  total=$(du -sm "$BUNDLE" | cut -f1)
  [ "$total" -le 52 ] || die ".device is $total MB: with the working tree it would pass the device tool's 64 MiB; prune it"
  echo "ready: run on the device with carry ['.device'] and command 'bash bench/device.sh run'"
}

setup_device() {
  stage "unpacking Node, npm modules, Vulkan loader"
  [ -d "$BUNDLE" ] || die "no .device/: run 'bash bench/device.sh prepare' here and carry .device"
  mkdir -p /tmp/comi-node/bin
  xz -d -c "$BUNDLE/node.xz" > /tmp/comi-node/bin/node && chmod +x /tmp/comi-node/bin/node
  export PATH=/tmp/comi-node/bin:$PATH
  if [ ! -e node_modules/webgpu ]; then
    rm -rf node_modules && mkdir node_modules
    xz -d -c "$BUNDLE/modules.tar.xz" | tar -x -C node_modules
  fi
  if ! ldconfig -p | grep -q libvulkan.so.1; then
    for f in "$BUNDLE"/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  # The container's GLX-based ICD cannot create a headless instance; NVIDIA's EGL one can (docs/performance.md).
  if [ -d /usr/local/nvidia ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
    local icd=/tmp/comi-nvidia-icd.json
    echo '{"file_format_version":"1.0.1","ICD":{"library_path":"libEGL_nvidia.so.0","api_version":"1.3"}}' > "$icd"
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}
  fi
  node --version
}

run() {
  local quick=0
  [ "${1:-}" = --quick ] && quick=1
  # Stage limits are sized for a GPU machine; lavapipe on a shared CPU gets ten times as long.
  local x=1
  [ "$quick" = 1 ] && x=10
  local t0=$SECONDS
  if [ "$quick" = 1 ]; then
    command -v node >/dev/null || setup_device
  else
    setup_device
  fi
  stage "build"
  timeout $((60 * x)) node node_modules/typescript/bin/tsc -p tsconfig.json || die "build failed"
  stage "adapter"
  local adapter
  adapter=$(timeout $((30 * x)) node dist/bench/adapter.js 2>/dev/null | tail -1) || die "no WebGPU adapter (Vulkan loader or driver missing?)"
  echo "$adapter"
  [ "$quick" = 1 ] || ! echo "$adapter" | grep -qi llvmpipe || die "the adapter is lavapipe, not the GPU: the NVIDIA Vulkan driver was not found"

  stage "oracle suites (defaults; every conv strategy and tiling, both reductions, Adam groups: forced inside the tests)"
  local suites=(test/kernels test/autograd test/train/train_step.test.ts test/model test/graph)
  [ "$quick" = 1 ] && suites=(test/kernels/conv.test.ts test/kernels/reduction.test.ts test/kernels/adam.test.ts test/train/train_step.test.ts)
  COMI_AUTOTUNE=0 timeout $((180 * x)) node node_modules/vitest/vitest.mjs run "${suites[@]}" || die "oracle suites failed"

  local configs=64:16,128:32,256:64 torch_json=bench/results/torch_step.json
  [ "$quick" = 1 ] && configs=64:8
  if [ "$quick" = 0 ]; then
    stage "PyTorch step (bench/torch_step.py, defaults)"
    timeout $((90 * x)) python3 bench/torch_step.py --configs "$configs" --json "$torch_json" || die "PyTorch step failed"
  fi
  stage "training step $configs"
  local torch_flag=()
  [ "$quick" = 0 ] && torch_flag=(--torch "$torch_json")
  timeout $((120 * x)) node dist/bench/step.js --configs "$configs" "${torch_flag[@]}" || die "step benchmark failed"
  # f16 maps beside f32 in the same process where the adapter can (issue 12 item 2): speed and max |Δ| against f32.
  local precision=f32
  echo "$adapter" | grep -q 'shader-f16 true' && precision=f32,f16
  stage "correction ($precision maps)"
  if [ "$quick" = 1 ]; then
    timeout $((120 * x)) node dist/bench/correct.js --ngf 4 --blocks 1 --width 256 --height 192 --precision $precision || die "correction benchmark failed"
  else
    timeout $((120 * x)) node dist/bench/correct.js --precision $precision || die "correction benchmark failed"
  fi
  if [ -n "${OUT:-}" ]; then cp bench/results/*.md bench/results/*.json "$OUT"/; fi
  stage "done in $((SECONDS - t0)) s; results in bench/results/"
  [ "$quick" = 1 ] || [ $((SECONDS - t0)) -le 480 ] || die "the run took $((SECONDS - t0)) s, over its 8-minute budget"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) die "usage: bash bench/device.sh prepare | run [--quick]" ;;
esac
