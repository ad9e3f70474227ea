#!/usr/bin/env bash
# mnist_mlp learns on a 3,000-image slice of Fashion-MNIST: the loss falls and the
# validation and test accuracies are far above chance (0.1), for the default run and for
# a set of optimizer, schedule, clipping and mixed-precision combinations. Early
# stopping watches the validation split and restores the best epoch.
#   mnist_mlp_train.sh <mnist_mlp binary> <data dir> <work dir>
source "$(dirname "$0")/common.sh"
bin=$1 data=$2 work=$3
need_data "$data"
rm -rf "$work" && mkdir -p "$work"

check_run() {  # $1: name, $2: minimum test accuracy, rest: flags
  local name=$1 min_acc=$2
  shift 2
  "$bin" --data "$data" --limit 3000 --metrics "$work/$name.csv" "$@" >"$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; fail "$name: mnist_mlp exited with an error"; }
  local first last epochs
  epochs=$(($(wc -l <"$work/$name.csv") - 1))
  first=$(csv_value "$work/${name}_steps.csv" 1 loss)
  last=$(csv_value "$work/$name.csv" "$epochs" train_loss)
  assert_cmp "$last" "<" "$first" "$name: last epoch's mean train loss below the first step's"
  assert_cmp "$(csv_value "$work/$name.csv" "$epochs" val_acc)" ">" "$min_acc" \
    "$name: validation accuracy"
  assert_cmp "$(result_value "$work/$name.log" test_acc)" ">" "$min_acc" "$name: test accuracy"
  assert_cmp "$(result_value "$work/$name.log" train_loss)" "==" \
    "$(printf '%.4f' "$last")" "$name: result line = CSV"
}

check_run default 0.75 --epochs 2
t1=$(csv_value "$work/default.csv" 1 train_loss) t2=$(csv_value "$work/default.csv" 2 train_loss)
assert_cmp "$t2" "<" "$t1" "default: epoch 2 train loss below epoch 1"
check_run sgd-step 0.7 --epochs 2 --optimizer sgd --scheduler step
check_run nesterov-onecycle-clip 0.7 --epochs 2 --optimizer nesterov --scheduler onecycle --clip 1
check_run adamw-warmup-cosine-bf16 0.7 --epochs 2 --optimizer adamw --scheduler warmup-cosine --amp bf16
check_run radam-plateau-f16 0.6 --epochs 2 --optimizer radam --scheduler plateau --amp f16
check_run lion-cyclic 0.6 --epochs 2 --optimizer lion --scheduler cyclic
check_run gd-full-batch 0.6 --epochs 10 --optimizer gd
gd_steps=$(($(wc -l <"$work/gd-full-batch_steps.csv") - 1))
check_run early-stop 0.6 --epochs 30 --early-stopping 1 --scheduler none --lr 0.05 --optimizer sgd
grep -q "early stopping: best val_loss at epoch" "$work/early-stop.log" ||
  { cat "$work/early-stop.log"; fail "early stopping did not stop 30 epochs"; }
echo "ok: $(grep 'early stopping' "$work/early-stop.log")"
"$bin" --data "$data" --limit 300 --val-fraction 0 --early-stopping 2 >"$work/noval.log" 2>&1 &&
  fail "--early-stopping without a validation split was accepted"
grep -q "expected --val-fraction > 0" "$work/noval.log" || { cat "$work/noval.log"; fail "no val error"; }
echo "ok: --early-stopping needs --val-fraction"
assert_cmp "$gd_steps" "==" 10 "gd: one full-batch step per epoch"

# --device cuda: with a GPU (nvidia-smi lists one) it must train; without one it must
# stop with exit code 1 and the library's "no usable CUDA device" error, not crash.
if nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  "$bin" --data "$data" --limit 500 --epochs 2 --device cuda >"$work/cuda.log" 2>&1 ||
    { cat "$work/cuda.log"; fail "--device cuda failed on a machine with a GPU"; }
  cuda_acc=$(result_value "$(cat "$work/cuda.log")" test_acc)
  assert_cmp "$cuda_acc" ">" 0.5 "--device cuda trains (test accuracy)"
else
  rc=0
  "$bin" --data "$data" --limit 200 --epochs 1 --device cuda >"$work/cuda.log" 2>&1 || rc=$?
  [[ $rc -eq 1 ]] || { cat "$work/cuda.log"; fail "--device cuda without a GPU exited with $rc, expected 1"; }
  grep -q 'no usable CUDA device' "$work/cuda.log" || { cat "$work/cuda.log"; fail "cuda: no CUDA error message"; }
  ! grep -q '^result:' "$work/cuda.log" || fail "--device cuda without a GPU printed a result"
  echo "ok: --device cuda without a GPU reports: $(grep 'CUDA device' "$work/cuda.log")"
fi

# A diverging run stops at once with a non-zero exit and says why; --detect-anomaly
# names the op that first produced a non-finite value.
if "$bin" --data "$data" --limit 300 --epochs 1 --optimizer sgd --lr 1e30 >"$work/inf.log" 2>&1; then
  cat "$work/inf.log"; fail "--lr 1e30: exited 0"
fi
grep -q "train: the loss became nan at epoch 1, step 1: training diverged" "$work/inf.log" ||
  { cat "$work/inf.log"; fail "--lr 1e30: no divergence message"; }
if "$bin" --data "$data" --limit 300 --epochs 1 --optimizer sgd --lr 1e30 --detect-anomaly \
  >"$work/anomaly.log" 2>&1; then
  cat "$work/anomaly.log"; fail "--lr 1e30 --detect-anomaly: exited 0"
fi
grep -qi "anomaly" "$work/anomaly.log" || { cat "$work/anomaly.log"; fail "--detect-anomaly: no report"; }
echo "ok: divergence stops the run ($(grep -oi "anomaly[^;]*" "$work/anomaly.log" | head -1))"

# --monitor K writes one CSV row every K steps, with a column per parameter statistic and
# per layer output.
"$bin" --data "$data" --limit 600 --epochs 1 --val-fraction 0 --monitor 2 \
  --monitor-csv "$work/monitor.csv" >"$work/monitor.log" 2>&1 || { cat "$work/monitor.log"; fail "--monitor run failed"; }
head -n 1 "$work/monitor.csv" | grep -q '^step,global_grad_norm,0.weight.grad_norm' || fail "monitor CSV header"
head -n 1 "$work/monitor.csv" | grep -q '2.act_zero_fraction' || fail "monitor CSV has no ReLU zero fraction"
assert_cmp "$(($(wc -l <"$work/monitor.csv") - 1))" "==" 3 "--monitor 2: rows for steps 0, 2, 4 of 5"
