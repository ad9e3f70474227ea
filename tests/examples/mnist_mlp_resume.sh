#!/usr/bin/env bash
# Stopping mnist_mlp after one epoch and resuming from its checkpoint gives exactly the
# run that trained two epochs straight: the same epoch-2 losses to the last bit and a
# byte-identical final checkpoint (model, optimizer, schedule, loader, RNG).
#   mnist_mlp_resume.sh <mnist_mlp binary> <data dir> <work dir>
source "$(dirname "$0")/common.sh"
bin=$1 data=$2 work=$3
need_data "$data"
rm -rf "$work" && mkdir -p "$work"
flags=(--data "$data" --limit 2000 --epochs 2 --optimizer adam --scheduler warmup-cosine)

"$bin" "${flags[@]}" --checkpoint "$work/straight" --metrics "$work/straight.csv" >"$work/straight.log" 2>&1
"$bin" "${flags[@]}" --checkpoint "$work/resumed" --stop-after 1 >"$work/part1.log" 2>&1
grep -q "stopping after 1 epoch" "$work/part1.log" || fail "--stop-after 1 did not stop"
grep -q '^result:' "$work/part1.log" && fail "the interrupted run printed a result"
"$bin" "${flags[@]}" --checkpoint "$work/resumed" --resume --metrics "$work/resumed.csv" \
  >"$work/part2.log" 2>&1
grep -q "resumed from .* after epoch 1" "$work/part2.log" || fail "part 2 did not resume"

for col in train_loss test_loss test_acc lr; do
  a=$(csv_value "$work/straight.csv" 2 "$col") b=$(csv_value "$work/resumed.csv" 1 "$col")
  [[ "$a" == "$b" ]] || fail "epoch 2 $col differs: straight $a, resumed $b"
  echo "ok: epoch 2 $col identical ($a)"
done
cmp "$work/straight/last.safetensors" "$work/resumed/last.safetensors" ||
  fail "final checkpoints differ"
echo "ok: final checkpoints byte-identical"
