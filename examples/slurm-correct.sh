#!/bin/bash
# Corrects a plate with a Slurm job array: N tasks, each `comi correct --shard $INDEX/$N` over the same inputs on
# a shared file system. Reruns (a requeued task, or the whole array after a crash) do only what is left.
#   sbatch --array=0-15 examples/slurm-correct.sh /shared/plates/P001 /shared/runs/actin /shared/corrected/P001
# Then, once every task has finished:
#   node bin/comi.js manifest check --out /shared/corrected/P001 /shared/plates/P001
#SBATCH --job-name=comi-correct
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --output=logs/comi-correct-%A_%a.log
set -euo pipefail
INPUTS=${1:?usage: sbatch --array=0-(N-1) slurm-correct.sh INPUTS MODEL OUT}
MODEL=${2:?model run folder}
OUT=${3:?output folder}
COMI=${COMI:-node "$(dirname "$0")/../bin/comi.js"}

# --shard is 0-based, like --array=0-(N-1); N is the size of the array.
$COMI correct --model "$MODEL" --out "$OUT" --name '{parent}/{name}{ext}' \
  --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}" --skip-existing --only-blurred \
  "$INPUTS/**/*.tif"
