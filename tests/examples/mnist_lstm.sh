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
