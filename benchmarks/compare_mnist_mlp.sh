#!/usr/bin/env bash
# One training epoch of the MNIST MLP (784-512-256-10, BatchNorm1d, ReLU, batch 128,
# Adam) over the 60,000 Fashion-MNIST images: descent's examples/mnist_mlp and the same
# model in PyTorch, back to back with the same thread count, REPS times each
# (alternating). Prints every epoch time, the medians and their ratio.
#   benchmarks/compare_mnist_mlp.sh            # REPS=3 THREADS=2 BUILD_DIR=build
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build} REPS=${REPS:-3} THREADS=${THREADS:-2}
DATA=${DATA:-datasets/fashion-mnist}
[[ -x "$BUILD/examples/mnist_mlp" ]] || { echo "build mnist_mlp first ($BUILD/examples/mnist_mlp)" >&2; exit 1; }
epoch_s() { grep '^result:' | tr ' ' '\n' | sed -n 's/^epoch_s=//p'; }
ours=() theirs=()
for ((i = 1; i <= REPS; i++)); do
  ours+=("$(OMP_NUM_THREADS=$THREADS "$BUILD/examples/mnist_mlp" --data "$DATA" --epochs 1 \
    --batch-size 128 --optimizer adam --lr 1e-3 2>/dev/null | epoch_s)")
  theirs+=("$(OMP_NUM_THREADS=$THREADS /usr/bin/python3 benchmarks/torch_mnist_mlp.py --data "$DATA" \
    --threads "$THREADS" | epoch_s)")
  echo "run $i: descent ${ours[-1]} s, pytorch ${theirs[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
mo=$(median "${ours[@]}") mt=$(median "${theirs[@]}")
echo "median epoch: descent $mo s, pytorch $mt s, pytorch/descent = $(awk -v a="$mt" -v b="$mo" 'BEGIN {printf "%.1f", a / b}')x (threads $THREADS)"
