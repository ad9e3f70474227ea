#!/usr/bin/env bash
# Stopping mnist_mlp after one epoch and resuming from its checkpoint gives exactly the
# run that trained two epochs straight: the same epoch-2 losses to the last bit and a
# byte-identical final checkpoint (model, optimizer, schedule, loader, RNG). The metrics
# CSVs are continued, not truncated: rows the interrupted run wrote after its checkpoint
# are dropped and written again. A --resume with other options (lr, seed, amp) is
# refused, naming each difference, and leaves the checkpoint as it was.
#   mnist_mlp_resume.sh <mnist_mlp binary> <data dir> <work dir>
source "$(dirname "$0")/common.sh"
bin=$1 data=$2 work=$3
need_data "$data"
rm -rf "$work" && mkdir -p "$work"
flags=(--data "$data" --limit 2000 --epochs 2 --optimizer adam --scheduler warmup-cosine)

"$bin" "${flags[@]}" --checkpoint "$work/straight" --metrics "$work/straight.csv" >"$work/straight.log" 2>&1
"$bin" "${flags[@]}" --checkpoint "$work/resumed" --stop-after 1 --metrics "$work/resumed.csv" \
  >"$work/part1.log" 2>&1
grep -q "stopping after 1 epoch" "$work/part1.log" || fail "--stop-after 1 did not stop"
grep -q '^result:' "$work/part1.log" && fail "the interrupted run printed a result"

# Other options on --resume: refused before training, each difference named.
cp "$work/resumed/last.safetensors" "$work/part1.safetensors"
if "$bin" "${flags[@]}" --checkpoint "$work/resumed" --resume --lr 0.01 --seed 5 --amp bf16 \
  >"$work/mismatch.log" 2>&1; then
  cat "$work/mismatch.log"; fail "--resume with other options was accepted"
fi
for want in "--lr is 0.01 here, 0.001 in the checkpoint" "--seed is 5 here, 0 in the checkpoint" \
  "--amp is bf16 here, off in the checkpoint"; do
  grep -q -- "$want" "$work/mismatch.log" || { cat "$work/mismatch.log"; fail "no '$want'"; }
done
grep -q '^epoch' "$work/mismatch.log" && fail "trained before refusing the options"
cmp "$work/resumed/last.safetensors" "$work/part1.safetensors" || fail "the refused run changed the checkpoint"
echo "ok: other options refused: $(grep -o 'other options: [^(]*' "$work/mismatch.log")"

# The interrupted run wrote rows past its checkpoint (a step row, a torn line): dropped.
echo "1,999,0.5" >>"$work/resumed_steps.csv"
printf '1,1000,0.' >>"$work/resumed_steps.csv"
"$bin" "${flags[@]}" --checkpoint "$work/resumed" --resume --metrics "$work/resumed.csv" \
  >"$work/part2.log" 2>&1 || { cat "$work/part2.log"; fail "part 2 failed"; }
grep -q "resumed from .* after epoch 1" "$work/part2.log" || fail "part 2 did not resume"

rows() { echo $(($(wc -l <"$1") - 1)); }
assert_cmp "$(rows "$work/resumed.csv")" "==" 2 "the epoch CSV holds both epochs"
assert_cmp "$(rows "$work/resumed_steps.csv")" "==" "$(rows "$work/straight_steps.csv")" \
  "the step CSV holds every step once"
cut -d, -f1-3 "$work/straight_steps.csv" >"$work/a.csv"
cut -d, -f1-3 "$work/resumed_steps.csv" >"$work/b.csv"
cmp "$work/a.csv" "$work/b.csv" || fail "the continued step CSV differs from the straight run's"
echo "ok: step CSV continued: every step's loss equals the straight run's"
for row in 1 2; do
  for col in train_loss val_loss val_acc lr; do
    a=$(csv_value "$work/straight.csv" $row "$col") b=$(csv_value "$work/resumed.csv" $row "$col")
    [[ "$a" == "$b" ]] || fail "epoch $row $col differs: straight $a, resumed $b"
    echo "ok: epoch $row $col identical ($a)"
  done
done
cmp "$work/straight/last.safetensors" "$work/resumed/last.safetensors" ||
  fail "final checkpoints differ"
echo "ok: final checkpoints byte-identical"
