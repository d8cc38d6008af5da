#!/usr/bin/env bash
# Retrains a shipped corrector (models/NAME): synthesizes a training set over a wide range of optics, defocus and
# noise with `comi synth`, then trains the recommended recipe (docs/results.md) on it.
#   bash scripts/pretrained/train.sh fluorescence|brightfield [WORK_DIR]
# The result replaces models/NAME/{generator.safetensors,config.json}; WORK_DIR (default /tmp/comi-pretrained-NAME)
# keeps the data and the run folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: scripts/pretrained/train.sh fluorescence|brightfield [WORK_DIR]}
work=${2:-/tmp/comi-pretrained-$name}
comi() { node bin/comi.js "$@"; }
rm -rf "$work"
mkdir -p "$work/data/blurred" "$work/data/clear"

# One synthetic part per row: NA, immersion index, pixel size (µm), photons at intensity 1, defocus range (µm).
case $name in
  fluorescence) kind=fluorescence; parts=(
    "0.75 1 0.16 300 0.4:1.5"   "0.75 1 0.2 3000 0.8:2.5"   "0.95 1 0.1 800 0.3:1.2"
    "0.95 1 0.13 2000 0.6:2.0"  "1.3 1.515 0.1 500 0.3:1.0" "1.3 1.515 0.065 4000 0.5:1.5" ) ;;
  brightfield) kind=brightfield; parts=(
    "0.25 1 0.5 5000 2:8"       "0.4 1 0.3 3000 1:5"        "0.65 1 0.16 8000 0.6:3"
    "0.75 1 0.12 2000 0.5:2.5"  "0.95 1 0.1 5000 0.4:1.5"   "1.3 1.515 0.08 4000 0.3:1.2" ) ;;
  *) echo "unknown model '$name' (fluorescence or brightfield)" >&2; exit 2 ;;
esac
for k in "${!parts[@]}"; do
  read -r na index pixel photons defocus <<<"${parts[$k]}"
  comi synth --kind "$kind" --out "$work/part$k" --count 12 --size 192 --na "$na" --index "$index" --pixel-size "$pixel" \
    --photons "$photons" --defocus "$defocus" --bit-depth 16 --seed "$((k + 1))"
  for f in "$work/part$k"/blurred/*.png; do
    b=$(basename "$f")
    mv "$f" "$work/data/blurred/part${k}_$b"
    mv "$work/part$k/clear/$b" "$work/data/clear/part${k}_$b"
  done
done

node train.js --data "$work/data" --layout paired --source blurred --target clear --out "$work/run" \
  --normalization percentile --size 64 --batch 2 --ngf 16 --blocks 6 --upsampling resize --global-residual \
  --content l1+ssim --adversarial-weight 0 --cycle-weight 0 --lr 5e-4 --iters "${ITERS:-2000}" --checkpoint-every 500 --sample-every 0

mkdir -p "models/$name"
cp "$work/run/generator.safetensors" "models/$name/generator.safetensors.tmp"
mv "models/$name/generator.safetensors.tmp" "models/$name/generator.safetensors"
cp "$work/run/config.json" "models/$name/config.json"
echo "models/$name updated from $work/run"
