#!/usr/bin/env bash
# The CPU step with one core taken by another process: the f32 LSTM training step
# (bench_lstm, T28 N128 I28 H128) and one mnist_mlp epoch, each on an idle machine and
# beside one CPU-bound neighbour (`yes`), with the thread count fixed at the core count
# (OMP_NUM_THREADS, the pre-2026-12-07 behaviour), fixed at 1, and adaptive (the
# default, core/threads.h). Prints medians; record them in benchmarks/RESULTS.md.
#   benchmarks/contention.sh [build dir] [data dir]
set -euo pipefail
build=${1:-build} data=${2:-datasets/fashion-mnist}
cores=$(nproc)
lstm() {
  "$build/benchmarks/bench_lstm" --benchmark_filter='BM_LstmTrainStep/28/128/28/128/0$' \
    --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.5 2>/dev/null | awk '/_median/ {print $2 " " $3}'
}
mlp() {  # the second epoch: the adaptive mode has settled by then
  "$build/examples/mnist_mlp" --data "$data" --epochs 2 2>/dev/null | tr '\r' '\n' |
    awk '/^epoch 2:/ {print $NF}'
}
measure() {  # $1: label
  for mode in "fixed $cores:OMP_NUM_THREADS=$cores" "fixed 1:OMP_NUM_THREADS=1" "adaptive:"; do
    local name=${mode%%:*} env=${mode#*:}
    printf '%-10s %-12s lstm step %-10s mlp epoch %s\n' "$1" "$name" \
      "$(env $env bash -c "$(declare -f lstm); build=$build lstm")" \
      "$(env $env bash -c "$(declare -f mlp); build=$build data=$data mlp")"
  done
}
echo "load before: $(cat /proc/loadavg)"
measure idle
yes >/dev/null &
neighbour=$!
trap 'kill $neighbour 2>/dev/null' EXIT
sleep 1
measure contended
