#!/usr/bin/env bash
# landscape on a small Fashion-MNIST slice: every run writes its five CSVs with the
# expected shapes; the interpolation at alpha = 1 is the trained model's loss (the same
# number the result line reports) and lies below the loss at alpha = 0 (the initial
# weights); the surface's centre is that loss too; the trajectory ends at (0, 0) of its
# plane; sharpness is positive. Fails when the data set is missing.
# Usage: landscape.sh BIN DATA_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/result_line.sh"
bin=$1 data=$2 work=$3
rm -rf "$work"
out=$(run_example "$bin" --data "$data" --limit 1500 --epochs 2 --eval-size 400 --grid 3 --out "$work")
for run in sgd-small-batch sgd-large-batch adam; do
  d="$work/$run"
  line=$(grep "^result: run=$run " <<<"$out")
  eval_loss=$(result_value "$line" eval_loss)
  sharp=$(result_value "$line" sharpness)
  [[ $(wc -l <"$d/interpolation.csv") -eq 32 ]] || { echo "FAIL: $run: interpolation rows" >&2; exit 1; }
  at1=$(awk -F, 'NR > 1 && $1 > 0.999 && $1 < 1.001 { print $2 }' "$d/interpolation.csv")
  at0=$(awk -F, 'NR > 1 && $1 > -0.001 && $1 < 0.001 { print $2 }' "$d/interpolation.csv")
  expect "($at1 - $eval_loss)^2 < 1e-8" "$run: loss at alpha 1 ($at1) is the trained loss ($eval_loss)"
  expect "$at1 < $at0" "$run: the trained end ($at1) lies below the initial weights ($at0)"
  [[ $(wc -l <"$d/surface.csv") -eq 10 ]] || { echo "FAIL: $run: surface rows" >&2; exit 1; }
  centre=$(awk -F, 'NR > 1 && $1 == 0 && $2 == 0 { print $3 }' "$d/surface.csv")
  expect "($centre - $eval_loss)^2 < 1e-8" "$run: surface centre ($centre) is the trained loss"
  [[ $(wc -l <"$d/pca_surface.csv") -eq 10 ]] || { echo "FAIL: $run: pca surface rows" >&2; exit 1; }
  last=$(tail -n 1 "$d/trajectory.csv")
  expect "$(cut -d, -f2 <<<"$last")^2 + $(cut -d, -f3 <<<"$last")^2 < 1e-12" "$run: the trajectory ends at the plane's origin"
  [[ $(wc -l <"$d/sharpness.csv") -eq 3 ]] || { echo "FAIL: $run: sharpness rows" >&2; exit 1; }
  expect "$sharp > 0" "$run: sharpness $sharp"
done
echo "ok: three runs, their interpolations, surfaces, trajectories and sharpness"
