#!/usr/bin/env bash
# optimizer_tour on a tiny Fashion-MNIST slice: one loss CSV per optimizer with the
# expected columns, each optimizer's smoothed loss ends below its first batch loss, and
# the LR range test and schedule CSVs are written. Fails when the data set is missing.
# Usage: optimizer_tour.sh BIN DATA_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/result_line.sh"
bin=$1 data=$2 work=$3
rm -rf "$work"
out=$(run_example "$bin" --data "$data" --limit 512 --epochs 3 --batch-size 32 --range-steps 40 --out "$work" --plot "")
grep -q '^lr range test:' <<<"$out" || { echo "FAIL: no LR range test" >&2; exit 1; }

header() { head -n 1 "$1"; }
n=0
for name in gd sgd momentum nesterov rmsprop adam amsgrad adamw nadam radam adagrad lion; do
  f="$work/loss/$name.csv"
  [[ -s "$f" ]] || { echo "FAIL: $f missing" >&2; exit 1; }
  [[ $(header "$f") == "step,epoch,loss,smoothed_loss,lr" ]] || { echo "FAIL: $f header $(header "$f")" >&2; exit 1; }
  first=$(sed -n 2p "$f" | cut -d, -f3)
  last=$(tail -n 1 "$f" | cut -d, -f4)
  rows=$(($(wc -l <"$f") - 1))
  expect "$rows == 48" "$name: 48 steps logged (3 epochs of 16 batches)"
  expect "$last < 0.95 * $first" "$name: loss fell from $first to $last"
  n=$((n + 1))
done
[[ $(header "$work/lr_range.csv") == "step,lr,loss,smoothed_loss" ]] || { echo "FAIL: lr_range.csv header" >&2; exit 1; }
# The suggestion must sit where the recorded curve falls: the smoothed loss at the
# suggested lr is below the first smoothed loss, and the suggestion comes no later than
# the lr of the lowest smoothed loss (steepest descent precedes the minimum).
sugg=$(result_value "$out" suggested_lr)
read -r first_s at_sugg lr_min < <(awk -F, -v s="$sugg" 'NR == 2 { first = $4 }
  NR > 1 { d = ($2 > s) ? $2 / s : s / $2; if (!seen || d < best) { best = d; at = $4; seen = 1 }
           if (!m || $4 < min) { min = $4; lrmin = $2; m = 1 } }
  END { print first, at, lrmin }' "$work/lr_range.csv")
expect "$at_sugg < $first_s" "smoothed loss at the suggested lr $sugg ($at_sugg) is below the first ($first_s)"
expect "$sugg <= $lr_min * 1.0001" "suggested lr $sugg comes no later than the minimum's lr $lr_min"
for s in step cosine warmup-cosine cyclic onecycle plateau; do
  f="$work/schedules/$s.csv"
  [[ $(header "$f") == "step,lr" && $(wc -l <"$f") -eq 501 ]] || { echo "FAIL: $f" >&2; exit 1; }
done
echo "ok: $n optimizers, the LR range test and 6 schedules written"
