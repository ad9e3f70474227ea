#!/usr/bin/env bash
# mnist_cnn learns on a 3,000-image slice of Fashion-MNIST with random crops and flips:
# the training loss falls and the validation accuracy is far above chance. Stopping it
# after one epoch and resuming gives exactly the two-epoch run — augmentation included:
# the same epoch-2 numbers to the last bit and a byte-identical final checkpoint.
#   mnist_cnn.sh <mnist_cnn binary> <data dir> <work dir>
source "$(dirname "$0")/common.sh"
bin=$1 data=$2 work=$3
need_data "$data"
rm -rf "$work" && mkdir -p "$work"
flags=(--data "$data" --limit 3000 --epochs 2 --width 8 --dropout 0 --crop-padding 2 --hflip)

"$bin" "${flags[@]}" --checkpoint "$work/straight" --metrics "$work/straight.csv" \
  >"$work/straight.log" 2>&1 || { cat "$work/straight.log"; fail "mnist_cnn failed"; }
assert_cmp "$(csv_value "$work/straight.csv" 2 train_loss)" "<" \
  "$(csv_value "$work/straight.csv" 1 train_loss)" "the training loss falls"
assert_cmp "$(csv_value "$work/straight.csv" 2 val_acc)" ">" 0.5 "validation accuracy"
result_value "$work/straight.log" test_acc >/dev/null

"$bin" "${flags[@]}" --checkpoint "$work/resumed" --stop-after 1 --metrics "$work/resumed.csv" \
  >"$work/part1.log" 2>&1 || { cat "$work/part1.log"; fail "part 1 failed"; }
"$bin" "${flags[@]}" --checkpoint "$work/resumed" --resume --metrics "$work/resumed.csv" \
  >"$work/part2.log" 2>&1 || { cat "$work/part2.log"; fail "part 2 failed"; }
grep -q "resumed from .* after epoch 1" "$work/part2.log" || fail "part 2 did not resume"
for col in train_loss val_loss val_acc; do
  a=$(csv_value "$work/straight.csv" 2 "$col") b=$(csv_value "$work/resumed.csv" 2 "$col")
  [[ "$a" == "$b" ]] || fail "epoch 2 $col differs: straight $a, resumed $b"
  echo "ok: epoch 2 $col identical ($a)"
done
cmp "$work/straight/last.safetensors" "$work/resumed/last.safetensors" ||
  fail "final checkpoints differ"
echo "ok: final checkpoints byte-identical"
