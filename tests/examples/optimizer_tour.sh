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
sugg=$(result_value "$out" suggested_lr)
expect "$sugg > 1e-5 && $sugg < 10" "suggested lr $sugg lies inside the sweep"
for s in step cosine warmup-cosine cyclic onecycle plateau; do
  f="$work/schedules/$s.csv"
  [[ $(header "$f") == "step,lr" && $(wc -l <"$f") -eq 501 ]] || { echo "FAIL: $f" >&2; exit 1; }
done
echo "ok: $n optimizers, the LR range test and 6 schedules written"
