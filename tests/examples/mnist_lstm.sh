#!/usr/bin/env bash
# mnist_lstm on a slice of Fashion-MNIST: the training loss falls and the test accuracy
# is far above chance (0.1). Fails when the data set is missing (scripts/get-data).
# Usage: mnist_lstm.sh BIN DATA_DIR
set -euo pipefail
source "$(dirname "$0")/result_line.sh"
bin=$1 data=$2

out=$(run_example "$bin" --data "$data" --limit 2000 --epochs 3 --hidden 64 --lr 3e-3 --seed 1)
first=$(result_value "$out" first_loss)
last=$(result_value "$out" last_loss)
acc=$(result_value "$out" test_acc)
expect "$first < 2.4" "first-epoch loss $first is near ln(10) = 2.30 or below"
expect "$last < 0.8 * $first" "training loss fell from $first to $last"
expect "$acc > 0.5" "test accuracy $acc on 2000 images is far above chance"

# bf16 autocast trains too.
out=$(run_example "$bin" --data "$data" --limit 800 --epochs 2 --hidden 64 --lr 3e-3 --amp)
first=$(result_value "$out" first_loss)
last=$(result_value "$out" last_loss)
expect "$last < $first" "bf16: training loss fell from $first to $last"

# --monitor K: a CSV row every K steps with the LSTM's gradient norms and the head's output.
mon=$(mktemp -d)
trap 'rm -rf "$mon"' EXIT
run_example "$bin" --data "$data" --limit 600 --epochs 1 --hidden 32 --monitor 2 \
  --monitor-csv "$mon/monitor.csv" >/dev/null
head -n 1 "$mon/monitor.csv" | grep -q 'lstm.weight_hh_l0.update_ratio' || { echo "FAIL: monitor CSV has no LSTM update ratio" >&2; exit 1; }
head -n 1 "$mon/monitor.csv" | grep -q 'fc.act_std' || { echo "FAIL: monitor CSV has no fc output statistics" >&2; exit 1; }
expect "$(($(wc -l <"$mon/monitor.csv") - 1)) == 3" "--monitor 2 wrote rows for steps 0, 2, 4 of 5"
