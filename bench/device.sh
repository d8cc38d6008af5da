#!/usr/bin/env bash
# The GPU check of the engine in one run (issue 12): build; the training step at 64²/16, 128²/32, 256²/64 beside
# PyTorch (bench/torch_step.py, its defaults); the CPU cost of recording a step (bench/record.ts); the paper-settings
# step with the VGG19 relu3_3 content loss; the generator's convolutions against the GEMM ceiling (bench/kernels.ts);
# the correction benchmark (f32 and, where the adapter has shader-f16, f16 maps); the oracle suites (every conv
# strategy, both reductions, Adam groups; a training step and tiled correction on the GPUs' strategies). Results in
# bench/results/; with $OUT set, the new result files and the whole log are copied there.
#
#   bash bench/device.sh prepare        here (no GPU needed): packs Node, the npm modules the run needs and the Vulkan
#                                       loader into .device/ (ignored by git; ~50 MB) for the device machine
#   bash bench/device.sh run [--quick] [--only KEYS]
#                                       there, from the repository root, with .device carried; --quick shrinks every
#                                       size and suite (a smoke test of this script on lavapipe; no PyTorch needed);
#                                       --only runs the listed stages of torch, step, record, profile, paper, kernels,
#                                       tiles, compare, fold, winograd, noise, correct, f16step, oracle (a short lease); compare needs another build
#                                       carried in .before/ (its dist/ and package.json)
#
# The device machine has no Node.js, no npm registry and no Vulkan loader (docs/performance.md): the run unpacks what
# `prepare` packed. Budget: < 8 minutes on an H100/H200. A GPU lease is short, so a failing or hanging stage does not
# stop the run: each stage has its own time limit, the measurements come first and the oracle suites last (they take
# whatever is left of the 8 minutes), and the run ends with one line per stage and a non-zero exit if any failed.
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
  stage "npm modules (without onnxruntime, TensorFlow.js, the browser driver, protobufjs, source maps and other platforms' Dawn builds: the run needs none)"
  [ -e node_modules/webgpu ] || die "no node_modules: run npm ci first"
  tar -c -C node_modules/ --dereference --exclude=./onnxruntime-node --exclude=./@tensorflow --exclude=./.cache \
    --exclude=./puppeteer-core --exclude=./chromium-bidi --exclude=./devtools-protocol --exclude=./zod --exclude='./bare-*' --exclude=./@tootallnate \
    --exclude=./protobufjs --exclude='*.map' --exclude='*.md' --exclude=./typescript/lib/typescript.js \
    --exclude='./typescript/lib/??' --exclude='./typescript/lib/??-??' \
    --exclude='./webgpu/dist/darwin-*' --exclude='./webgpu/dist/win32-*' --exclude=./webgpu/dist/linux-arm64 . \
    | xz -T0 -7 > "$BUNDLE/modules.tar.xz"
  stage "Vulkan loader and EGL (the device's image has none)"
  mkdir -p "$BUNDLE/gl" /tmp/amd64/partial
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq && (cd "$BUNDLE/gl" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null) \
    || die "apt-get could not fetch the Vulkan loader"
  du -sh "$BUNDLE"/*
  local total tree
  total=$(du -sm "$BUNDLE" | cut -f1)
  tree=$(git ls-files -z | du -cm --files0-from=- | tail -1 | cut -f1)
  [ $((total + tree)) -le 62 ] || die ".device is $total MiB and the tree $tree MiB: together over the device tool's 64 MiB; prune it"
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

FAILED=()
ONLY=''
# A stage that fails is recorded, not fatal: the later stages still measure. With --only KEY,... the others are skipped.
attempt() {
  local key=$1 name=$2
  shift 2
  [ -z "$ONLY" ] || [[ ",$ONLY," == *",$key,"* ]] || return 0
  stage "$name"
  if "$@"; then echo "-- $name: ok"; else echo "-- $name: FAILED (exit $?)"; FAILED+=("$name"); fi
}

run() {
  local quick=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) quick=1 ;;
      --only) ONLY=$2; shift ;;
      *) die "unknown option $1" ;;
    esac
    shift
  done
  # Stage limits are sized for a GPU machine; lavapipe on a shared CPU gets ten times as long.
  local x=1
  [ "$quick" = 1 ] && x=10
  local t0=$SECONDS budget=480
  local marker
  marker=$(mktemp)
  # --quick here uses the local Node and modules unless .device/ is packed (then it rehearses the device's unpacking).
  if [ "$quick" = 0 ] || [ -d "$BUNDLE" ]; then setup_device; fi
  stage "build"
  # The device's copy of the tree has no generated files (git ignores them): generate the shader table first. The
  # TensorFlow.js and browser benchmarks are left out of the build where their packages were not packed.
  local tsconfig=tsconfig.json
  if [ ! -e node_modules/@tensorflow/tfjs-core ] || [ ! -e node_modules/puppeteer-core ]; then
    tsconfig=$BUNDLE/tsconfig.device.json
    echo '{"extends": "../tsconfig.json", "exclude": ["../bench/tfjs_step.ts", "../bench/browser.ts"]}' > "$tsconfig"
  fi
  (node scripts/gen-shaders.mjs && timeout $((60 * x)) node node_modules/typescript/bin/tsc -p "$tsconfig") || die "build failed"
  stage "adapter"
  local adapter probe
  probe=$(timeout $((30 * x)) node dist/bench/adapter.js 2>/dev/null) || die "no WebGPU adapter (Vulkan loader or driver missing?)"
  echo "$probe"
  adapter=$(echo "$probe" | tail -1)
  [ "$quick" = 1 ] || ! echo "$adapter" | grep -qi llvmpipe || die "the adapter is lavapipe, not the GPU: the NVIDIA Vulkan driver was not found"

  local configs=64:16,128:32,256:64 paper=256:64 recorded=64:16,256:64 torch_json=bench/results/torch_step.json reps=(--reps 10) profiled_reps=3 fold_maps=256:16,128:32,64:64 noise=256:64 noise_rounds=3 winograd_maps=256:16,128:32,64:64
  [ "$quick" = 1 ] && configs=64:8 paper=64:8 recorded=64:8 reps=(--reps 1) profiled_reps=1 fold_maps=32:16 noise=64:8 noise_rounds=1 winograd_maps=32:16
  local torch_flag=()
  if [ "$quick" = 0 ]; then
    rm -f "$torch_json"
    attempt torch "PyTorch step (bench/torch_step.py, defaults)" \
      timeout $((90 * x)) python3 bench/torch_step.py --configs "$configs" --json "$torch_json"
    [ ! -s "$torch_json" ] || torch_flag=(--torch "$torch_json")
  fi
  attempt step "training step $configs" timeout $((120 * x)) node dist/bench/step.js --configs "$configs" "${reps[@]}" "${torch_flag[@]}"
  attempt record "recording a step on the CPU" timeout $((60 * x)) node dist/bench/record.js --configs "$recorded" "${reps[@]}"
  attempt profile "GPU time of a step by kernel" timeout $((60 * x)) node dist/bench/profile_step.js --configs "$recorded" --reps "$profiled_reps"
  attempt paper "paper-settings step $paper with the VGG19 relu3_3 content loss" \
    timeout $((60 * x)) node dist/bench/step.js --configs "$paper" --content "${reps[@]}"
  if [ "$quick" = 1 ]; then
    attempt kernels "generator convolutions against the ceiling" timeout $((60 * x)) node dist/bench/kernels.js --only ref --size 64
  else
    attempt kernels "generator convolutions against the ceiling" timeout 90 node dist/bench/kernels.js --only ref,gen --size 256
  fi
  # The workgroup-memory tiles forced on the reference convolutions (a ResNet block's among them), whether or not the
  # autotuner picks them: 128×128 blocks split until the GPU is full, and 64×64.
  for tiling in '{"strategy":"tiles","tm":8,"tn":8,"splitK":"auto"}' '{"strategy":"tiles","tm":4,"tn":4,"splitK":"auto"}'; do
    attempt tiles "reference convolutions forced to $tiling" timeout $((60 * x)) node dist/bench/kernels.js --only ref --size 64 --tiling "$tiling"
  done
  # A/B against another build carried in .before/ (its dist/ and package.json): both alternated in one process, with
  # the variants the first build tunes in an empty cache (the second reads them: kernel changes timed alone).
  if [ -d .before/dist ]; then
    attempt compare "this tree against .before/ (bench/compare_step.ts)" \
      env COMI_CACHE="$(mktemp -d)" timeout $((90 * x)) node dist/bench/compare_step.js .before . --configs "$recorded" --rounds 7
  fi
  attempt fold "the reflection fold's cost" timeout $((60 * x)) node dist/bench/fold.js --maps "$fold_maps"
  attempt winograd "Winograd against register tiles, ResNet-block convolutions" \
    timeout $((60 * x)) node dist/bench/winograd.js --maps "$winograd_maps" --rounds 3
  # Whether charging candidates their dispatches' recording time chooses better than GPU time alone (a GPU's small
  # steps are CPU-bound).
  attempt noise "autotune decision rules on the same trials ($noise)" \
    timeout $((60 * x)) node dist/bench/autotune_noise.js --config "$noise" --tunings 3 --rounds "${noise_rounds}"
  # f16 maps beside f32 in the same process where the adapter can (issue 12 item 2): speed and max |Δ| against f32.
  local precision=f32
  echo "$adapter" | grep -q 'shader-f16 true' && precision=f32,f16
  if [ "$quick" = 1 ]; then
    attempt correct "correction ($precision maps)" timeout $((120 * x)) node dist/bench/correct.js --ngf 4 --blocks 1 --width 256 --height 192 --precision $precision
  else
    attempt correct "correction ($precision maps, ngf 64)" timeout 90 node dist/bench/correct.js --precision $precision --reps 3
  fi
  # Training with f16 maps (train --precision f16) beside f32, alternated: step time and buffers held.
  if [ "$precision" = f32,f16 ]; then
    local f16_runs=(--reps 3 --rounds 2)
    [ "$quick" = 1 ] && f16_runs=(--reps 1 --rounds 1)
    attempt f16step "training step with f32 and f16 maps $recorded" timeout $((60 * x)) node dist/bench/f16_step.js --configs "$recorded" "${f16_runs[@]}"
  fi

  # Without errors.test.ts: its no-adapter cases load TypeScript itself, which the bundle leaves out (and need no GPU).
  local suites=(test/kernels test/autograd test/train/train_step.test.ts test/correct/tiled.test.ts test/model test/graph)
  [ "$quick" = 1 ] && suites=(test/kernels/conv.test.ts test/kernels/reduction.test.ts test/kernels/adam.test.ts test/train/train_step.test.ts)
  local left=$((budget * x - (SECONDS - t0)))
  [ "$left" -ge 30 ] || left=30
  attempt oracle "oracle suites (every conv strategy and tiling, both reductions: forced inside the tests; ${left} s left)" \
    env COMI_AUTOTUNE=0 timeout "$left" node node_modules/vitest/vitest.mjs run "${suites[@]}" --exclude test/graph/errors.test.ts

  if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && find bench/results -newer "$marker" -type f -exec cp {} "$OUT"/ \;; fi
  rm -f "$marker"
  stage "done in $((SECONDS - t0)) s; results in bench/results/"
  [ "$quick" = 1 ] || [ $((SECONDS - t0)) -le "$budget" ] || FAILED+=("the 8-minute budget ($((SECONDS - t0)) s)")
  [ ${#FAILED[@]} -eq 0 ] || die "failed: ${FAILED[*]}"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) die "usage: bash bench/device.sh prepare | run [--quick] [--only KEYS]" ;;
esac
