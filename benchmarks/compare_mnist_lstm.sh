#!/usr/bin/env bash
# One epoch of the row-by-row Fashion-MNIST LSTM (hidden 128, batch 128, Adam, 2
# threads) in descent (examples/mnist_lstm) and PyTorch (torch_mnist_lstm.py), f32 and
# bf16 autocast, run one after the other in this script so the ratios are comparable.
# Usage: benchmarks/compare_mnist_lstm.sh [BUILD_DIR] [extra flags, e.g. --limit 10000]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
data=$root/data/fashion-mnist
export OMP_NUM_THREADS=2
row() {  # name, then the command; prints the command's result line
  local r
  r=$("${@:2}" 2>&1 | grep '^result:') || { echo "$1: failed" >&2; exit 1; }
  printf '%-14s %s\n' "$1" "${r#result: }"
}
row "descent f32" "$build/examples/mnist_lstm" --data "$data" --epochs 1 --lr 2e-3 "$@"
row "descent bf16" "$build/examples/mnist_lstm" --data "$data" --epochs 1 --lr 2e-3 --amp "$@"
row "torch f32" /usr/bin/python3 "$root/benchmarks/torch_mnist_lstm.py" --data "$data" "$@"
row "torch bf16" /usr/bin/python3 "$root/benchmarks/torch_mnist_lstm.py" --data "$data" --amp "$@"
